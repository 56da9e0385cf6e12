import { useState } from 'react';
import { Button, Checkbox, InputGroup, Menu, MenuDivider, MenuItem, PopoverNext, Tag } from '@blueprintjs/core';
import { COLUMNS, describeRange, toggleColumn, VIEW_PARAMS, type SavedView } from './SubTable';
import './SubDash.css';

/**
 * The filters without a control of their own (set by links: the dashboard,
 * a customer), each a tag that removes it.
 */
export function FilterTags({ filters, onRemove }: { filters: Record<string, string>; onRemove: (changes: Record<string, string>) => void }) {
  const tags: { id: string; text: string; clear: Record<string, string>; title?: string }[] = [];
  if (filters.customer) tags.push({ id: 'customer-filter', text: `customer #${filters.customer}`, clear: { customer: '' } });
  if (filters.seat_based)
    tags.push({
      id: 'seat-based-filter',
      text: filters.seat_based === 'true' ? 'per-user plans' : `seat_based=${filters.seat_based}`,
      title: 'Only subscriptions of plans sold per user (seats)',
      clear: { seat_based: '' },
    });
  if (filters.created_from || filters.created_to)
    tags.push({
      id: 'created-filter',
      text: describeRange('created', filters.created_from, filters.created_to),
      title: `created_from=${filters.created_from || '…'} created_to=${filters.created_to || '…'} (the end is not included)`,
      clear: { created_from: '', created_to: '' },
    });
  if (filters.changed_from || filters.changed_to)
    tags.push({
      id: 'changed-filter',
      text: describeRange('state changed', filters.changed_from, filters.changed_to),
      title: `changed_from=${filters.changed_from || '…'} changed_to=${filters.changed_to || '…'} (the end is not included)`,
      clear: { changed_from: '', changed_to: '' },
    });
  return (
    <>
      {tags.map((t) => (
        <Tag key={t.id} minimal icon="filter" title={t.title} onRemove={() => onRemove(t.clear)} data-testid={t.id}>
          {t.text}
        </Tag>
      ))}
    </>
  );
}

/** Shows and hides columns; the choice goes into the URL (cols=…). */
export function ColumnChooser({ visible, onChange }: { visible: string[]; onChange: (cols: string[]) => void }) {
  return (
    <PopoverNext
      placement="bottom-end"
      content={
        <div className="sub-popover" aria-label="Columns" role="group">
          {COLUMNS.map((c) => (
            <Checkbox
              key={c.id}
              label={c.label}
              checked={visible.includes(c.id)}
              disabled={visible.length === 1 && visible.includes(c.id)}
              onChange={() => onChange(toggleColumn(visible, c.id))}
            />
          ))}
          <Button size="small" variant="minimal" icon="reset" text="Default columns" onClick={() => onChange([])} />
        </div>
      }
    >
      <Button icon="column-layout" text="Columns" endIcon="caret-down" />
    </PopoverNext>
  );
}

/** Saved views: named filter, sort and column sets in this browser. */
export function ViewsMenu(props: {
  views: SavedView[];
  current?: string;
  onApply: (v: SavedView) => void;
  onSave: (name: string) => void;
  onDelete: (name: string) => void;
}) {
  const [name, setName] = useState('');
  const { views, current, onApply, onSave, onDelete } = props;
  const describe = (v: SavedView) => {
    const p = new URLSearchParams(v.params);
    const parts = VIEW_PARAMS.filter((k) => p.get(k)).map((k) => `${k}=${p.get(k)}`);
    return parts.join(' · ') || 'all subscriptions, default sort and columns';
  };
  return (
    <PopoverNext
      placement="bottom-end"
      content={
        <div className="sub-popover" style={{ width: 320 }}>
          <Menu>
            {views.length === 0 && <MenuItem disabled text="No saved views yet" />}
            {views.map((v) => (
              <MenuItem
                key={v.name}
                icon={v.name === current ? 'tick' : 'bookmark'}
                text={v.name}
                label={v.name === current ? 'current' : undefined}
                title={describe(v)}
                onClick={() => onApply(v)}
                labelElement={
                  <Button
                    size="small"
                    variant="minimal"
                    icon="trash"
                    aria-label={'Delete view ' + v.name}
                    onClick={(e) => {
                      e.stopPropagation();
                      onDelete(v.name);
                    }}
                  />
                }
              />
            ))}
            <MenuDivider />
          </Menu>
          <form
            className="sub-save-view"
            onSubmit={(e) => {
              e.preventDefault();
              onSave(name);
              setName('');
            }}
          >
            <InputGroup size="small" placeholder="Name this view" value={name} onChange={(e) => setName(e.target.value)} aria-label="View name" />
            <Button size="small" type="submit" icon="floppy-disk" text="Save view" disabled={!name.trim()} />
          </form>
          <p className="sub-hint">A view keeps the filters, search, sort and columns. Its link: …/subscriptions?view=name</p>
        </div>
      }
    >
      <Button icon="bookmark" text="Views" endIcon="caret-down" />
    </PopoverNext>
  );
}
