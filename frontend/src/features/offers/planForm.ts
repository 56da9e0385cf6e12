// The plan dialog's form: its fields, the plan body the API takes, and the
// fields of a stored plan to compare an edit against.
import { type Dimension, type OverQuantityPolicy, type PlanFull } from '../../shared/api';

export interface DimRow extends Dimension {
  rid: number;
}

export interface PlanForm {
  plan_id: string;
  name: string;
  seat_based: boolean;
  dimensions: DimRow[];
  activation_policy: string;
  reject_plan_change: boolean;
  reject_quantity_change: boolean;
  min_quantity: string;
  max_quantity: string;
  allow_over_assignment: boolean;
  auto_assign_seats: boolean;
  over_quantity_policy: OverQuantityPolicy;
}

const toInt = (s: string) => (s.trim() === '' ? 0 : Math.trunc(Number(s)));
export const dims = (rows: Dimension[]) => rows.map((d) => ({ key: d.key.trim(), name: d.name.trim(), unit: d.unit.trim(), metered: !!d.metered }));

/** The plan as the API takes it; a flat plan has no seat limits or seat policies. */
export function planBody(v: PlanForm) {
  return {
    name: v.name.trim(),
    seat_based: v.seat_based,
    dimensions: dims(v.dimensions),
    activation_policy: v.activation_policy,
    reject_plan_change: v.reject_plan_change,
    reject_quantity_change: v.reject_quantity_change,
    min_quantity: v.seat_based ? toInt(v.min_quantity) : 0,
    max_quantity: v.seat_based ? toInt(v.max_quantity) : 0,
    allow_over_assignment: v.seat_based && v.allow_over_assignment,
    auto_assign_seats: v.seat_based && v.auto_assign_seats,
    over_quantity_policy: v.over_quantity_policy,
  };
}

/** The form fields of a stored plan (to compare against). */
export function planForm(p: PlanFull): Omit<PlanForm, 'plan_id' | 'dimensions'> {
  return {
    name: p.name,
    seat_based: p.seat_based,
    activation_policy: p.activation_policy,
    reject_plan_change: p.reject_plan_change,
    reject_quantity_change: p.reject_quantity_change,
    min_quantity: String(p.min_quantity ?? 0),
    max_quantity: String(p.max_quantity ?? 0),
    allow_over_assignment: p.allow_over_assignment,
    auto_assign_seats: p.auto_assign_seats,
    over_quantity_policy: p.over_quantity_policy || 'keep_all',
  };
}

/** The form of a new plan (no plan) or of a stored one; row numbers each dimension's row. */
export function initialForm(plan: PlanFull | undefined, row: (d?: Dimension) => DimRow): PlanForm {
  return {
    plan_id: plan?.plan_id ?? '',
    name: plan?.name ?? '',
    seat_based: plan?.seat_based ?? false,
    dimensions: (plan?.dimensions ?? []).map(row),
    activation_policy: plan?.activation_policy ?? 'automatic',
    reject_plan_change: plan?.reject_plan_change ?? false,
    reject_quantity_change: plan?.reject_quantity_change ?? false,
    min_quantity: plan?.min_quantity ? String(plan.min_quantity) : '',
    max_quantity: plan?.max_quantity ? String(plan.max_quantity) : '',
    allow_over_assignment: plan?.allow_over_assignment ?? false,
    auto_assign_seats: plan?.auto_assign_seats ?? false,
    over_quantity_policy: plan?.over_quantity_policy || 'keep_all',
  };
}
