import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { DataTable } from './DataTable';
import { useRowKeys } from './common';

afterEach(cleanup);

const rows = [{ id: 1, name: 'Contoso' }, { id: 2, name: 'Fabrikam' }, { id: 3, name: 'Northwind' }];

function List({ viaRef }: { viaRef?: boolean }) {
  const keys = useRowKeys(rows.length, () => {});
  return (
    <DataTable
      label="Customers"
      rows={rows}
      rowKey={(r) => r.id}
      columns={[{ id: 'name', header: 'Name', cell: (r) => r.name }]}
      activeIndex={viaRef ? undefined : keys.selected}
      rowProps={viaRef ? (_, i) => ({ ref: i === keys.selected ? keys.rowRef : undefined, 'aria-selected': i === keys.selected }) : undefined}
    />
  );
}

describe('DataTable keyboard selection', () => {
  it.each([false, true])('moves the focus to the selected row, so a screen reader announces it (rowRef: %s)', (viaRef) => {
    render(<List viaRef={viaRef} />);
    fireEvent.keyDown(document.body, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Contoso');
    expect(document.activeElement?.tagName).toBe('TR');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('Fabrikam');
    expect(document.activeElement?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(document.activeElement?.textContent).toBe('Contoso');
    expect(screen.getByRole('table', { name: 'Customers' })).toBeTruthy();
  });
});
