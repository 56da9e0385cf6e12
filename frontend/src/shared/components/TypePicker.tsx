import { Checkbox, Classes, FormGroup, Radio, RadioGroup } from '@blueprintjs/core';
import type { TypeInfo } from '../api';

/** What a webhook endpoint or alert channel listens to: everything, or the ticked types. */
export interface TypeChoice {
  all: boolean;
  chosen: string[];
}

export function choiceOf(types: string[]): TypeChoice {
  return types.includes('*') ? { all: true, chosen: [] } : { all: false, chosen: types };
}

/** The list the API takes: ["*"] or the chosen types. */
export function typesOf(c: TypeChoice): string[] {
  return c.all ? ['*'] : c.chosen;
}

export function choiceValid(c: TypeChoice): boolean {
  return c.all || c.chosen.length > 0;
}

/** Shows ["*"] as "all" and a list as its types. */
export function TypeList({ types }: { types: string[] }) {
  if (types.includes('*')) return <span>all</span>;
  return <span title={types.join('\n')}>{types.length <= 2 ? types.join(', ') : `${types.slice(0, 2).join(', ')} +${types.length - 2}`}</span>;
}

// TypePicker: "all" (including types added later) or a checklist of the
// known types with what each means.
export function TypePicker(props: { label: string; allLabel: string; types: TypeInfo[]; value: TypeChoice; onChange: (c: TypeChoice) => void; name: string }) {
  const { label, allLabel, types, value, onChange, name } = props;
  const toggle = (t: string) =>
    onChange({ all: false, chosen: value.chosen.includes(t) ? value.chosen.filter((x) => x !== t) : [...value.chosen, t] });
  return (
    <FormGroup label={label}>
      <RadioGroup
        name={name}
        selectedValue={value.all ? 'all' : 'some'}
        onChange={(e) => onChange({ all: e.currentTarget.value === 'all', chosen: value.chosen })}
      >
        <Radio value="all" label={allLabel} />
        <Radio value="some" label="Only the types ticked below" />
      </RadioGroup>
      <div className="mg-type-list" role="group" aria-label={label}>
        {types.map((t) => (
          <Checkbox
            key={t.type}
            disabled={value.all}
            checked={value.all || value.chosen.includes(t.type)}
            onChange={() => toggle(t.type)}
            labelElement={
              <>
                <code>{t.type}</code> <span className={Classes.TEXT_MUTED}>— {t.description}</span>
              </>
            }
          />
        ))}
      </div>
      {!choiceValid(value) && <div className="mg-stat-danger">Tick at least one type.</div>}
    </FormGroup>
  );
}
