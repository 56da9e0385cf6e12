import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AnchorButton, Button, Callout, Classes, InputGroup, Tag } from '@blueprintjs/core';
import { api, invalidateAll, queryKeys, staleAfter, type Seat } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { SeatSummaryBar, AssignForm, ImportDialog, userOf } from './SeatForms';

export const SEAT_PAGE = 50;

/** The seats request the subscription page and the Seats tab share. */
export function seatsQuery(id: string, q: string, offset: number) {
  return {
    queryKey: queryKeys.seats.page(id, q, offset),
    queryFn: () => api.seats.list(id, { q, limit: SEAT_PAGE, offset }),
  };
}

const sourceLabel: Record<string, string> = { manual: 'assigned', import: 'imported', auto: 'auto-assigned' };


function seatColumns(manage: boolean, onRelease: (s: Seat) => void): Column<Seat>[] {
  return [
    {
      id: 'user',
      header: 'User',
      cell: (s) => (
        <>
          {s.email || <code>{s.entra_object_id}</code>}
          {s.email && s.entra_object_id && <div className={Classes.TEXT_MUTED}>{s.entra_object_id}</div>}
          {s.over && (
            <Tag minimal intent="warning" style={{ marginLeft: 6 }} data-testid="over-tag">
              over quantity
            </Tag>
          )}
        </>
      ),
    },
    { id: 'name', header: 'Name', cell: (s) => s.name || '—' },
    { id: 'source', header: 'Source', cell: (s) => sourceLabel[s.source] ?? s.source },
    { id: 'assigned_by', header: 'Assigned by', cell: (s) => s.assigned_by || '—' },
    { id: 'assigned_at', header: 'Assigned', cell: (s) => formatDate(s.assigned_at) },
    { id: 'last_checked', header: 'Last checked', cell: (s) => (s.last_checked_at ? formatDate(s.last_checked_at) : 'never') },
    { id: 'release', header: '', cell: (s) => manage && <Button small minimal intent="danger" icon="cross" text="Release" onClick={() => onRelease(s)} /> },
  ];
}

// SeatsTab: the seats of one per-user subscription — what was bought and
// used, who holds a seat, and (for those who may manage them) assigning,
// releasing, and importing a list. Search and page live in the URL.
export function SeatsTab({ id }: { id: string }) {
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const [text, setText] = useState(q);
  const [selected, setSelected] = useState<number[]>([]);
  const [confirm, setConfirm] = useState<Seat[] | null>(null);
  const [importing, setImporting] = useState(false);

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === '0') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  // Debounced search box.
  useEffect(() => {
    if (text === q) return;
    const t = setTimeout(() => update({ q: text, offset: '' }), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);

  const list = useQuery({ ...seatsQuery(id, q, offset), placeholderData: keepPreviousData });
  // Bumped by every change but an assignment: the assignment's own success note is then out of date.
  const [changes, setChanges] = useState(0);
  const refresh = () => invalidateAll(qc, staleAfter.seatChange(id));
  const changed = () => {
    setChanges((n) => n + 1);
    return refresh();
  };

  const release = useMutation({
    mutationFn: (seats: Seat[]) =>
      seats.length === 1
        ? api.seats.release(id, seats[0].id)
        : api.seats.releaseMany(
            id,
            seats.map((s) => s.id),
          ),
    onSuccess: () => {
      setSelected([]);
      void changed();
    },
    onSettled: () => setConfirm(null),
  });

  if (list.isPending) return <Loading />;
  if (list.isError && list.data === undefined) return <ErrorBox error={list.error} />;
  const { summary, items, total } = list.data;
  if (!summary.seat_based) {
    return (
      <Callout icon="info-sign" style={{ maxWidth: 900 }} data-testid="not-seat-based">
        This subscription&apos;s plan is not priced per user: there are no seats to assign.
      </Callout>
    );
  }
  const manage = summary.can_manage;
  const toggle = (seatId: number) => setSelected((s) => (s.includes(seatId) ? s.filter((x) => x !== seatId) : [...s, seatId]));
  const visibleOver = items.filter((s) => s.over);
  const chosen = items.filter((s) => selected.includes(s.id));

  return (
    <div>
      <SeatSummaryBar summary={summary} />
      {!summary.usable && (
        <Callout icon="disable" style={{ maxWidth: 900, marginBottom: 8 }}>
          This subscription is <strong>{summary.state}</strong>: its users cannot use the product now. Seats are kept.
        </Callout>
      )}
      {summary.over > 0 && (
        <Callout intent="warning" title="More seats assigned than bought" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="over-warning">
          <p>
            The quantity dropped below the seats assigned: {summary.bought} bought, {summary.assigned} assigned. The {summary.over} newest{' '}
            {summary.over === 1 ? 'seat is' : 'seats are'} marked <em>over quantity</em>
            {summary.over_quantity_policy === 'newest_unlicensed'
              ? ' and their users are refused until seats are released or more are bought.'
              : '; their users keep access for now.'}
          </p>
          {manage && (
            <p style={{ marginBottom: 0 }}>
              Tick the seats to release below (any seats, not only the marked ones), then press <em>Release selected</em>.{' '}
              {visibleOver.length > 0 && (
                <Button
                  small
                  text={visibleOver.length === 1 ? 'Tick the over-quantity seat' : `Tick the ${visibleOver.length} over-quantity seats shown`}
                  onClick={() => setSelected(visibleOver.map((s) => s.id))}
                />
              )}
            </p>
          )}
        </Callout>
      )}
      {manage && <AssignForm id={id} summary={summary} onAssigned={refresh} changes={changes} />}
      <div className="mg-toolbar">
        <InputGroup
          leftIcon="search"
          placeholder="Search e-mail, object id or name"
          value={text}
          onValueChange={setText}
          style={{ width: 300 }}
          aria-label="Search seats"
        />
        <AnchorButton icon="download" text="Export CSV" href={api.seats.exportUrl(id)} />
        {manage && <Button icon="import" text="Import…" onClick={() => setImporting(true)} />}
        {manage && (
          <Button
            icon="remove"
            intent="danger"
            text={`Release selected (${chosen.length})`}
            disabled={chosen.length === 0}
            onClick={() => setConfirm(chosen)}
          />
        )}
      </div>
      {release.isError && <ErrorBox error={release.error} />}
      {items.length === 0 ? (
        <Empty
          title={q ? 'No seat holder matches' : 'No seats assigned yet'}
          action={q ? undefined : <span>{manage ? 'Assign a seat above, or import a list.' : 'The customer\u2019s admins assign seats here.'}</span>}
        />
      ) : (
        <DataTable
          rows={items}
          columns={seatColumns(manage, (s) => setConfirm([s]))}
          rowKey={(s) => s.id}
          label="Seats"
          className="mg-seats"
          selection={
            manage ? { isSelected: (s) => selected.includes(s.id), onToggle: (s) => toggle(s.id), label: (s) => 'Select ' + userOf(s), headerLabel: 'Select' } : undefined
          }
          rowProps={(s) => ({ 'data-testid': 'seat-row', className: s.over ? 'mg-over' : undefined })}
        />
      )}
      <Pager offset={offset} limit={SEAT_PAGE} total={total} onOffset={(o) => update({ offset: String(o) })} />
      <ConfirmDialog
        isOpen={confirm !== null}
        intent="danger"
        icon="warning-sign"
        confirmText={confirm && confirm.length > 1 ? `Release ${confirm.length} seats` : 'Release seat'}
        loading={release.isPending}
        onConfirm={() => confirm && release.mutate(confirm)}
        onCancel={() => setConfirm(null)}
      >
        {confirm && confirm.length === 1 ? (
          <p>
            Release the seat of <strong>{userOf(confirm[0])}</strong>? They lose access at once.
          </p>
        ) : (
          <p>
            Release {confirm?.length} seats? These users lose access at once:{' '}
            {confirm
              ?.slice(0, 10)
              .map(userOf)
              .join(', ')}
            {confirm && confirm.length > 10 && ` and ${confirm.length - 10} more`}.
          </p>
        )}
      </ConfirmDialog>
      {importing && <ImportDialog id={id} onClose={() => setImporting(false)} onApplied={changed} />}
    </div>
  );
}
