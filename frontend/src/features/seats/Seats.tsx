import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AnchorButton, Button, Callout, Classes, InputGroup, Tag } from '@blueprintjs/core';
import { Trans, useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { api, invalidateAll, queryKeys, staleAfter, type Seat } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { formatDateTime, formatNumber } from '../../shared/i18n';
import { SeatSummaryBar, AssignForm, ImportDialog, userOf } from './SeatForms';

export const SEAT_PAGE = 50;

/** The seats request the subscription page and the Seats tab share. */
export function seatsQuery(id: string, q: string, offset: number) {
  return {
    queryKey: queryKeys.seats.page(id, q, offset),
    queryFn: () => api.seats.list(id, { q, limit: SEAT_PAGE, offset }),
  };
}

function seatColumns(t: TFunction<'seats'>, manage: boolean, onRelease: (s: Seat) => void): Column<Seat>[] {
  return [
    {
      id: 'user',
      header: t('columns.user'),
      cell: (s) => (
        <>
          {s.email || <code>{s.entra_object_id}</code>}
          {s.email && s.entra_object_id && <div className={Classes.TEXT_MUTED}>{s.entra_object_id}</div>}
          {s.over && (
            <Tag minimal intent="warning" style={{ marginLeft: 6 }} data-testid="over-tag">
              {t('overTag')}
            </Tag>
          )}
        </>
      ),
    },
    { id: 'name', header: t('columns.name'), cell: (s) => s.name || '—' },
    { id: 'source', header: t('columns.source'), cell: (s) => t(`source.${s.source}`, { defaultValue: s.source }) },
    { id: 'assigned_by', header: t('columns.assignedBy'), cell: (s) => s.assigned_by || '—' },
    { id: 'assigned_at', header: t('columns.assignedAt'), cell: (s) => formatDateTime(s.assigned_at) },
    { id: 'last_checked', header: t('columns.lastChecked'), cell: (s) => (s.last_checked_at ? formatDateTime(s.last_checked_at) : t('never')) },
    { id: 'release', header: '', cell: (s) => manage && <Button small minimal intent="danger" icon="cross" text={t('release')} onClick={() => onRelease(s)} /> },
  ];
}

// SeatsTab: the seats of one per-user subscription — what was bought and
// used, who holds a seat, and (for those who may manage them) assigning,
// releasing, and importing a list. Search and page live in the URL.
export function SeatsTab({ id }: { id: string }) {
  const { t } = useTranslation('seats');
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
        {t('notSeatBased')}
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
          <Trans t={t} i18nKey="notUsable" values={{ state: t(`state.${summary.state}`, { defaultValue: summary.state }) }} components={{ b: <strong /> }} />
        </Callout>
      )}
      {summary.over > 0 && (
        <Callout intent="warning" title={t('over.title')} style={{ maxWidth: 900, marginBottom: 8 }} data-testid="over-warning">
          <p>
            <Trans
              t={t}
              i18nKey={summary.over_quantity_policy === 'newest_unlicensed' ? 'over.bodyRefused' : 'over.bodyKept'}
              count={summary.over}
              values={{ bought: formatNumber(summary.bought), assigned: formatNumber(summary.assigned) }}
              components={{ em: <em /> }}
            />
          </p>
          {manage && (
            <p style={{ marginBottom: 0 }}>
              <Trans t={t} i18nKey="over.manage" components={{ em: <em /> }} />{' '}
              {visibleOver.length > 0 && (
                <Button
                  small
                  text={t('over.tick', { count: visibleOver.length })}
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
          placeholder={t('search.placeholder')}
          value={text}
          onValueChange={setText}
          style={{ width: 300 }}
          aria-label={t('search.label')}
        />
        <AnchorButton icon="download" text={t('exportCsv')} href={api.seats.exportUrl(id)} />
        {manage && <Button icon="import" text={t('importButton')} onClick={() => setImporting(true)} />}
        {manage && (
          <Button
            icon="remove"
            intent="danger"
            text={t('releaseSelected', { n: formatNumber(chosen.length) })}
            disabled={chosen.length === 0}
            onClick={() => setConfirm(chosen)}
          />
        )}
      </div>
      {release.isError && <ErrorBox error={release.error} />}
      {items.length === 0 ? (
        <Empty
          title={q ? t('empty.noMatch') : t('empty.none')}
          action={q ? undefined : <span>{manage ? t('empty.manage') : t('empty.view')}</span>}
        />
      ) : (
        <DataTable
          rows={items}
          columns={seatColumns(t, manage, (s) => setConfirm([s]))}
          rowKey={(s) => s.id}
          label={t('table.label')}
          className="mg-seats"
          selection={
            manage ? { isSelected: (s) => selected.includes(s.id), onToggle: (s) => toggle(s.id), label: (s) => t('table.select', { user: userOf(s) }), headerLabel: t('table.selectHeader') } : undefined
          }
          rowProps={(s) => ({ 'data-testid': 'seat-row', className: s.over ? 'mg-over' : undefined })}
        />
      )}
      <Pager offset={offset} limit={SEAT_PAGE} total={total} onOffset={(o) => update({ offset: String(o) })} />
      <ConfirmDialog
        isOpen={confirm !== null}
        intent="danger"
        icon="warning-sign"
        confirmText={confirm && confirm.length > 1 ? t('confirm.releaseMany', { n: formatNumber(confirm.length) }) : t('confirm.releaseOne')}
        loading={release.isPending}
        onConfirm={() => confirm && release.mutate(confirm)}
        onCancel={() => setConfirm(null)}
      >
        {confirm && confirm.length === 1 ? (
          <p>
            <Trans t={t} i18nKey="confirm.one" values={{ user: userOf(confirm[0]) }} components={{ b: <strong /> }} />
          </p>
        ) : (
          <p>
            {t('confirm.many', {
              n: formatNumber(confirm?.length),
              users:
                (confirm
                  ?.slice(0, 10)
                  .map(userOf)
                  .join(t('confirm.separator')) ?? '') + (confirm && confirm.length > 10 ? t('confirm.andMore', { n: formatNumber(confirm.length - 10) }) : ''),
            })}
          </p>
        )}
      </ConfirmDialog>
      {importing && <ImportDialog id={id} onClose={() => setImporting(false)} onApplied={changed} />}
    </div>
  );
}
