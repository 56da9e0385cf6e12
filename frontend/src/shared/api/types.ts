// The wire types of the portal API: every request and answer body the
// portal sends or reads, named after what it is. Hand-written for now; they
// are to be generated from the API's OpenAPI document, so no feature
// declares a wire type of its own.

export type Role = 'admin' | 'operator' | 'viewer' | 'customer_admin';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  customer_id: number | null;
  must_change_password: boolean;
  disabled?: boolean;
  last_login_at?: string | null;
  created_at?: string;
  /** GET /api/users: the organisation's name, for customer admins. */
  customer_name?: string;
  /** Two-factor authentication (TOTP) is on for this account. */
  two_factor_enabled?: boolean;
  /** The account signs in with the company's identity provider (single sign-on). */
  sso?: boolean;
  /** GET /api/auth/me: an admin requires two-factor authentication and this account has none yet. */
  must_enable_two_factor?: boolean;
  /** GET /api/auth/me: unused recovery codes left. */
  recovery_codes_left?: number;
}

/** GET /api/auth/options: the sign-in methods this portal offers. */
export interface AuthOptions {
  microsoft: boolean;
  /** Single sign-on for seller staff (OpenID Connect), or null. */
  sso?: { name: string; url: string } | null;
}

/** POST /api/auth/login: signed in, or the second step is needed. */
export type LoginAnswer = { user: User; two_factor_required?: undefined } | { two_factor_required: true; user?: undefined };

/** POST /api/auth/2fa/setup: the new secret (shown until confirmed). */
export interface TwoFactorSetup {
  secret: string;
  otpauth_uri: string;
  qr_code_url: string;
}

/** GET/PUT /api/security: instance-wide security settings (admins). */
export interface SecuritySettings {
  require_two_factor: boolean;
  sso: { name: string; url: string } | null;
}

/** An invitation of seller staff (GET /api/users/invites); the link itself is returned only when it is made. */
export interface UserInvite {
  id: number;
  email: string;
  name: string;
  role: Exclude<Role, 'customer_admin'>;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

export interface Subscription {
  id: number;
  marketplace: 'aws' | 'azure';
  state: string;
  name: string;
  customer: { id: number; name: string } | null;
  offer: { id: number; name: string; marketplace_id: string } | null;
  plan: { id: number; plan_id: string; name: string } | null;
  quantity: number;
  aws_customer_account_id: string;
  aws_license_arn: string;
  aws_customer_identifier: string;
  aws_product_code: string;
  aws_offer_id: string;
  azure_subscription_id: string;
  azure_tenant_id: string;
  term_start: string | null;
  term_end: string | null;
  /** Microsoft's term unit as sent (P1M … P5Y, PAY, or a value Microsoft adds later); "" for AWS. */
  term_unit: string;
  free_trial: boolean;
  is_test: boolean;
  auto_renew: boolean;
  version: number;
  state_changed_at: string;
  created_at: string;
  updated_at: string;
}

/**
 * The one identity an AWS subscription's usage is sent under (AWS: never
 * meter one customer under both models in the same hour): the offer's
 * identity model, or inferred from what AWS gave when the offer has none.
 */
export interface AWSMeteringIdentity {
  model: 'legacy' | 'concurrent_agreements' | '';
  source: 'offer' | 'inferred';
  customer_identifier: string;
  product_code: string;
  customer_aws_account_id: string;
  license_arn: string;
  /** What AWS has not given yet for this model ("" when usage can be sent). */
  missing: string;
}

export interface TimelineEntry {
  id: number;
  at: string;
  kind: string;
  source: string;
  summary: string;
  from_state: string;
  to_state: string;
  actor: string;
  payload: unknown;
  inbox_id: number | null;
}

export interface Entitlement {
  dimension: string;
  kind: string;
  value: string;
  expires_at: string | null;
  updated_at: string;
}

export interface Agreement {
  agreement_id: string;
  offer_id: string;
  intent: string;
  status: string;
  previous_agreement_id?: string;
  starts_at: string | null;
  ends_at: string | null;
  ended_at: string | null;
  days_before_end: number | null;
  auto_renewal: boolean | null;
  /** GetAgreementTerms: '' not read yet, 'read', 'unavailable' (no Agreement Service in this AWS partition), 'error' (retried). */
  terms_status: string;
  free_trial_days: number | null;
  free_trial_ends_at: string | null;
  updated_at: string;
}

/** An AWS subscription's free trial, from its agreements' terms. */
export interface FreeTrial {
  status: 'active' | 'ended' | 'none' | 'unknown';
  days: number | null;
  ends_at: string | null;
  agreement_id?: string;
  note?: string;
}

export interface AzureOperation {
  operation_id: string;
  action: string;
  source: string;
  plan_id?: string;
  quantity?: number;
  status: string;
  error_message?: string;
  requested_by?: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  next_cursor?: string | null;
}

export interface Plan {
  id: number;
  plan_id: string;
  name: string;
  seat_based: boolean;
  dimensions: { key: string; name: string; unit: string }[];
  activation_policy: string;
  // Seat policies of per-user plans (issue 7; editable since issue 8).
  allow_over_assignment: boolean;
  auto_assign_seats: boolean;
  over_quantity_policy: OverQuantityPolicy;
}

export type OverQuantityPolicy = 'keep_all' | 'newest_unlicensed';

/** The seat policies PATCH /api/plans/:id/seats takes. */
export type PlanSeatPolicies = Pick<Plan, 'seat_based' | 'allow_over_assignment' | 'auto_assign_seats' | 'over_quantity_policy'>;

export interface Offer {
  id: number;
  marketplace: string;
  name: string;
  marketplace_id: string;
  identity_model: string;
  plans: Plan[];
}

export interface Customer {
  id: number;
  name: string;
  email: string;
  aws_account_id: string;
  azure_tenant_id: string;
  subscriptions: number;
  created_at: string;
}

/** One organisation (GET /api/customers/:id). */
export interface CustomerDetail {
  id: number;
  name: string;
  email: string;
  aws_account_id: string;
  azure_tenant_id: string;
  created_at: string;
  updated_at: string;
  subscriptions: number;
  /** Active or unsubscribe pending. */
  active_subscriptions: number;
  /** Its customer admins (deactivated ones too). */
  admins: number;
}

export interface InboxMessage {
  id: number;
  marketplace: string;
  source: string;
  dedup_key: string;
  action: string;
  status: string;
  error: string;
  attempts: number;
  subscription_id: number | null;
  received_at: string;
  processed_at: string | null;
  body?: string;
  content_type?: string;
  /** GET /api/inbox/:id: the stored request headers, a JSON object as a string ("" when none were stored). */
  headers?: string;
}

// Seats of a per-user subscription (issue 7).
export interface SeatSummary {
  seat_based: boolean;
  bought: number;
  assigned: number;
  free: number;
  over: number;
  allow_over_assignment: boolean;
  over_quantity_policy: 'keep_all' | 'newest_unlicensed' | string;
  auto_assign: boolean;
  usable: boolean;
  state: string;
  can_manage: boolean;
  more_seats?: { text: string; url: string; label: string } | null;
}

export interface Seat {
  id: number;
  email: string;
  entra_object_id: string;
  name: string;
  source: 'manual' | 'import' | 'auto' | string;
  assigned_by: string;
  assigned_at: string;
  over: boolean;
  last_checked_at: string | null;
}

export interface SeatList {
  summary: SeatSummary;
  items: Seat[];
  total: number;
}

export interface SeatImportResult {
  applied: boolean;
  mode: 'add' | 'replace';
  add: { line: number; user: string; name?: string }[];
  keep: { line: number; user: string }[];
  release: { id: number; user: string }[];
  refused: { line: number; value: string; reason: string }[];
  summary: SeatSummary;
}

// Customer admins of an organisation and their invitations.
export interface CustomerAdmin {
  id: number;
  email: string;
  name: string;
  entra: boolean;
  password: boolean;
  last_login_at: string | null;
  disabled: boolean;
}

export interface AdminInvite {
  id: number;
  email: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

export interface CustomerAdmins {
  customer: { id: number; name: string; azure_tenant_id: string; aws_account_id: string };
  admins: CustomerAdmin[];
  invites: AdminInvite[];
}

// Outbound webhooks and alerts (issue 8).

/** An event or alert type with what it means. */
export interface TypeInfo {
  type: string;
  description: string;
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  /** ["*"] for every type. */
  event_types: string[];
  enabled: boolean;
  disabled_reason: string;
  disabled_at: string | null;
  failing_since: string | null;
  consecutive_failures: number;
  last_success_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Deliveries waiting. */
  pending: number;
  /** Deliveries given up. */
  failed: number;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDelivery {
  id: number;
  event_id: string;
  event_type: string;
  subscription_id: number | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  response_status: number;
  response_excerpt: string;
  error: string;
  delivered_at: string | null;
  created_at: string;
  request?: { headers: Record<string, string>; body: unknown } | null;
}

export type AlertChannelKind = 'email' | 'slack' | 'teams';

export interface AlertChannel {
  id: number;
  kind: AlertChannelKind;
  name: string;
  target: string;
  /** ["*"] for every type. */
  alert_types: string[];
  enabled: boolean;
  last_sent_at: string | null;
  last_error: string;
  created_at: string;
  updated_at: string;
}

export interface AlertItem {
  id: number;
  type: string;
  key: string;
  title: string;
  detail: string;
  link: string;
  count: number;
  first_at: string;
  last_at: string;
}

// Metering (issue 4).

export interface MeteringRecord {
  id: number;
  subscription_id: number;
  marketplace: 'aws' | 'azure';
  dimension: string;
  hour: string;
  quantity: number;
  status: string;
  marketplace_record_id?: string;
  reason?: string;
  attempts: number;
  next_attempt_at: string | null;
  sent_at: string | null;
  settled_at: string | null;
  expiring: boolean;
}

export interface MeteringHealth {
  pending: number;
  expiring: number;
  accepted: number;
  failed: number;
  expired: number;
  unsealed_usage_hours: number;
}

export interface UsageSeries {
  granularity: 'hour' | 'day';
  series: Record<string, { at: string; quantity: number }[]>;
}

// Offers and plans as the Offers page edits them.

export interface Dimension {
  key: string;
  name: string;
  unit: string;
  metered?: boolean;
}

/** A plan as GET /api/offers returns it. */
export interface PlanFull extends Plan {
  dimensions: Dimension[];
  /** Learned from Microsoft at a purchase (not in the catalog before); saving the plan marks it reviewed. */
  needs_review: boolean;
  reject_plan_change: boolean;
  reject_quantity_change: boolean;
  min_quantity: number;
  max_quantity: number;
}

export interface OfferFull extends Offer {
  marketplace: 'aws' | 'azure';
  contract: boolean;
  plans: PlanFull[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON, or "" when nothing was recorded. */
  before: string;
  after: string;
  request_id: string;
  ip: string;
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface Connection {
  last_success_at: string | null;
  last_error_at: string | null;
  last_error: string;
  last_call: string;
}

export interface SystemInfo {
  version: string;
  sandbox: boolean;
  database: string;
  base_url: string;
  aws: { configured: boolean; registration_url: string; connection?: Connection };
  microsoft: {
    configured: boolean;
    api_url?: string;
    tenant_id?: string;
    client_id?: string;
    landing_url?: string;
    webhook_url?: string;
    webhook_auth?: string;
    connection?: Connection;
  };
}

export interface ReconcileReport {
  seen: number;
  repaired: number;
  failed: number;
  started_at: string;
  finished_at: string;
}

export interface WebhookList {
  items: WebhookEndpoint[];
  event_types: TypeInfo[];
}

export interface AlertChannelList {
  items: AlertChannel[];
  alert_types: TypeInfo[];
  email_configured: boolean;
}

export interface DayCount {
  day: string;
  count: number;
}

export interface Dashboard {
  by_state: { marketplace: string; state: string; count: number }[];
  total: number;
  customers: number;
  seats?: { sold: number; assigned: number };
  created_per_day?: DayCount[];
  ended_per_day?: DayCount[];
  recent_events?: { id: number; subscription_id: number; at: string; kind: string; summary: string; to_state: string }[];
  /** Seller staff only. */
  inbox_failed?: number;
  /** Seller staff only. */
  metering?: { pending: number; expiring: number; accepted: number; failed: number; expired: number; unsealed_usage_hours: number };
}

export interface SubscriptionDetail {
  subscription: Subscription;
  timeline: TimelineEntry[];
  entitlements: Entitlement[];
  agreements: Agreement[];
  operations: AzureOperation[];
  seats?: SeatSummary | null;
  /** AWS only: the identity usage is metered under. */
  aws_metering_identity?: AWSMeteringIdentity | null;
  /** Seller staff only. */
  audit?: AuditEntry[];
  /** AWS only: the free trial from the agreement's terms. */
  free_trial?: FreeTrial | null;
}

export interface AvailablePlan {
  plan_id: string;
  name: string;
  per_seat: boolean;
  min_quantity: number;
  max_quantity: number;
  private: boolean;
}

export interface SubscriptionRaw {
  marketplace: 'aws' | 'azure';
  source: string;
  /** Microsoft: its Get subscription answer. */
  record?: unknown;
  read_at?: string;
  /** AWS: the stored messages, newest first, with their bodies. */
  messages?: InboxMessage[];
}
