// DimensionsEditor: the plan dialog's metered dimensions, one editable row
// each (key, name, unit, metered), with the API's error under the row it is about.
import { Button, Checkbox } from '@blueprintjs/core';
import { DataTable } from '../../shared/components/DataTable';
import { FieldError } from './OfferDialog';
import { type DimRow } from './planForm';

export function DimensionsEditor(props: {
  dimensions: DimRow[];
  /** The index of the row the server's error is about, if any. */
  dimError: number;
  message?: string;
  setDim: (i: number, change: Partial<DimRow>) => void;
  onRemove: (i: number) => void;
}) {
  const { dimensions, dimError, message, setDim, onRemove } = props;
  return (
    <DataTable
      label="Metered dimensions"
      className="mg-dims"
      striped={false}
      rows={dimensions}
      rowKey={(d) => d.rid}
      rowProps={(_, i) => ({ 'data-testid': 'dimension-row', className: i === dimError ? 'mg-dim-invalid' : undefined })}
      afterRow={(d, i) =>
        i === dimError && (
          <tr key={d.rid + '-error'} className="mg-dim-invalid" data-testid="dimension-error">
            <td colSpan={5}>
              <FieldError text={message} />
            </td>
          </tr>
        )
      }
      columns={[
        {
          id: 'key',
          header: 'Key (as the marketplace knows it)',
          cell: (d, i) => (
            <input className="bp6-input bp6-small bp6-fill" aria-label={`Dimension ${i + 1} key`} value={d.key} onChange={(e) => setDim(i, { key: e.currentTarget.value })} style={{ fontFamily: 'monospace' }} />
          ),
        },
        {
          id: 'name',
          header: 'Name',
          cell: (d, i) => <input className="bp6-input bp6-small bp6-fill" aria-label={`Dimension ${i + 1} name`} value={d.name} onChange={(e) => setDim(i, { name: e.currentTarget.value })} />,
        },
        {
          id: 'unit',
          header: 'Unit',
          cell: (d, i) => (
            <input className="bp6-input bp6-small" aria-label={`Dimension ${i + 1} unit`} value={d.unit} onChange={(e) => setDim(i, { unit: e.currentTarget.value })} style={{ width: 110 }} placeholder="e.g. 1000 calls" />
          ),
        },
        {
          id: 'metered',
          header: 'Metered',
          title: 'Contract offers: billed by usage on top of the entitlement',
          cell: (d, i) => <Checkbox aria-label={`Dimension ${i + 1} metered`} checked={!!d.metered} onChange={(e) => setDim(i, { metered: e.currentTarget.checked })} style={{ margin: '4px 0 0' }} />,
        },
        { id: 'remove', header: '', cell: (_, i) => <Button small minimal icon="trash" aria-label={`Remove dimension ${i + 1}`} onClick={() => onRemove(i)} /> },
      ]}
    />
  );
}
