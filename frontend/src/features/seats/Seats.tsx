import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  AnchorButton,
  Button,
  Callout,
  Checkbox,
  Classes,
  Dialog,
  DialogBody,
  DialogFooter,
  FileInput,
  FormGroup,
  H5,
  HTMLTable,
  InputGroup,
  ProgressBar,
  Radio,
  RadioGroup,
  Tag,
  TextArea,
} from '@blueprintjs/core';
import { api, queryKeys, ApiError, type SeatSummary, type Seat, type SeatImportResult } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';

export const SEAT_PAGE = 50;

/** The seats request the subscription page and the Seats tab share. */
export function seatsQuery(id: string, q: string, offset: number) {
  return {
    queryKey: queryKeys.seats.page(id, q, offset),
    queryFn: () => api.seats.list(id, { q, limit: SEAT_PAGE, offset }),
  };
}

const sourceLabel: Record<string, string> = { manual: 'assigned', import: 'imported', auto: 'auto-assigned' };

function userOf(s: { email: string; entra_object_id: string }) {
  return s.email || s.entra_object_id;
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
  const refresh = () => qc.invalidateQueries({ queryKey: queryKeys.seats.of(id) });

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
      void refresh();
    },
    onSettled: () => setConfirm(null),
  });

  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorBox error={list.error} />;
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
      {manage && <AssignForm id={id} summary={summary} onAssigned={refresh} />}
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
        <HTMLTable compact striped className="mg-table mg-seats" aria-label="Seats">
          <thead>
            <tr>
              {manage && <th aria-label="Select" />}
              <th>User</th>
              <th>Name</th>
              <th>Source</th>
              <th>Assigned by</th>
              <th>Assigned</th>
              <th>Last checked</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-testid="seat-row" className={s.over ? 'mg-over' : undefined}>
                {manage && (
                  <td>
                    <Checkbox
                      style={{ margin: 0 }}
                      checked={selected.includes(s.id)}
                      onChange={() => toggle(s.id)}
                      aria-label={'Select ' + userOf(s)}
                    />
                  </td>
                )}
                <td>
                  {s.email || <code>{s.entra_object_id}</code>}
                  {s.email && s.entra_object_id && <div className={Classes.TEXT_MUTED}>{s.entra_object_id}</div>}
                  {s.over && (
                    <Tag minimal intent="warning" style={{ marginLeft: 6 }} data-testid="over-tag">
                      over quantity
                    </Tag>
                  )}
                </td>
                <td>{s.name || '—'}</td>
                <td>{sourceLabel[s.source] ?? s.source}</td>
                <td>{s.assigned_by || '—'}</td>
                <td>{formatDate(s.assigned_at)}</td>
                <td>{s.last_checked_at ? formatDate(s.last_checked_at) : 'never'}</td>
                <td>{manage && <Button small minimal intent="danger" icon="cross" text="Release" onClick={() => setConfirm([s])} />}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
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
      {importing && <ImportDialog id={id} onClose={() => setImporting(false)} onApplied={refresh} />}
    </div>
  );
}

function SeatSummaryBar({ summary: s }: { summary: SeatSummary }) {
  const stat = (n: number, label: string, testid: string, intent?: 'warning' | 'danger') => (
    <div className="mg-stat" data-testid={testid}>
      <span className={'mg-stat-n' + (intent ? ' mg-stat-' + intent : '')}>{n}</span> {label}
    </div>
  );
  return (
    <div className="mg-seat-summary" data-testid="seat-summary">
      {stat(s.bought, 'bought', 'seats-bought')}
      {stat(s.assigned, 'assigned', 'seats-assigned')}
      {stat(s.free, 'free', 'seats-free')}
      {stat(s.over, 'over', 'seats-over', s.over > 0 ? 'danger' : undefined)}
      <ProgressBar
        className="mg-seat-bar"
        animate={false}
        stripes={false}
        intent={s.over > 0 ? 'danger' : s.free === 0 ? 'warning' : 'primary'}
        value={s.bought > 0 ? Math.min(1, s.assigned / s.bought) : s.assigned > 0 ? 1 : 0}
      />
      <span className={Classes.TEXT_MUTED}>
        {s.allow_over_assignment && 'over-assignment allowed (flagged) · '}
        {s.auto_assign && 'free seats are handed out on first use · '}
        {s.over_quantity_policy === 'newest_unlicensed' ? 'seats over the quantity are refused' : 'seats over the quantity keep access'}
      </span>
    </div>
  );
}

function MoreSeats({ summary, said }: { summary: SeatSummary; said: string }) {
  const m = summary.more_seats;
  if (!m) return null;
  return (
    <Callout icon="shopping-cart" title="How to get more seats" style={{ maxWidth: 900, marginTop: 8 }} data-testid="more-seats">
      {/* The refusal may already say it. */}
      {m.text && !said.includes(m.text) && <p>{m.text}</p>}
      {m.url && (
        <a href={m.url} target="_blank" rel="noreferrer">
          {m.label || m.url}
        </a>
      )}
    </Callout>
  );
}

function AssignForm({ id, summary, onAssigned }: { id: string; summary: SeatSummary; onAssigned: () => void }) {
  const [user, setUser] = useState('');
  const [name, setName] = useState('');
  const assign = useMutation({
    mutationFn: () => api.seats.assign(id, { user: user.trim(), name: name.trim() }),
    onSuccess: () => {
      setUser('');
      setName('');
      onAssigned();
    },
  });
  const noFree = assign.error instanceof ApiError && assign.error.code === 'no_free_seat';
  return (
    <form
      aria-label="Assign a seat"
      style={{ marginBottom: 12, maxWidth: 900 }}
      onSubmit={(e) => {
        e.preventDefault();
        if (user.trim()) assign.mutate();
      }}
    >
      <div className="mg-toolbar" style={{ marginBottom: 4 }}>
        <InputGroup
          id="seat-user"
          aria-label="User e-mail or Entra object id"
          placeholder="user@example.com or Entra object id"
          value={user}
          onValueChange={(v) => {
            setUser(v);
            if (assign.isError) assign.reset();
          }}
          style={{ width: 300 }}
        />
        <InputGroup id="seat-name" aria-label="Name (optional)" placeholder="Name (optional)" value={name} onValueChange={setName} style={{ width: 200 }} />
        <Button type="submit" intent="primary" icon="add" text="Assign seat" disabled={!user.trim()} loading={assign.isPending} />
        {assign.isSuccess && (
          <span role="status" className={Classes.TEXT_MUTED}>
            Seat assigned to {userOf(assign.data.seat)}.
          </span>
        )}
      </div>
      {assign.isError && <ErrorBox error={assign.error} title={assign.error instanceof ApiError && assign.error.status === 409 ? 'Seat not assigned' : undefined} />}
      {noFree && <MoreSeats summary={summary} said={assign.error?.message ?? ''} />}
    </form>
  );
}

function ImportDialog({ id, onClose, onApplied }: { id: string; onClose: () => void; onApplied: () => void }) {
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [mode, setMode] = useState<'add' | 'replace'>('add');
  // The preview answers for exactly this text and mode; editing either asks for a new one.
  const [previewed, setPreviewed] = useState<{ text: string; mode: string; result: SeatImportResult } | null>(null);
  const [applied, setApplied] = useState<SeatImportResult | null>(null);
  const run = useMutation({
    mutationFn: (apply: boolean) =>
      api.seats.import(id, text, mode, apply),
    onSuccess: (r, apply) => {
      if (apply) {
        setApplied(r);
        onApplied();
      } else {
        setPreviewed({ text, mode, result: r });
      }
    },
  });
  const preview = previewed && previewed.text === text && previewed.mode === mode ? previewed.result : null;
  const changes = preview ? preview.add.length + preview.release.length : 0;
  return (
    <Dialog isOpen onClose={onClose} title="Import seats" style={{ width: 760 }}>
      <DialogBody>
        {applied ? (
          <>
            <Callout intent="success" title="Import applied" data-testid="import-applied" style={{ marginBottom: 8 }}>
              {applied.add.length} added, {applied.keep.length} kept, {applied.release.length} released, {applied.refused.length} refused. Now{' '}
              {applied.summary.assigned} of {applied.summary.bought} seats are assigned.
            </Callout>
            <ImportReport r={applied} />
          </>
        ) : (
          <>
            <p>
              One user per line: an e-mail address or an Entra object id, then optionally a name, separated by a comma. A header row may name the
              columns <code>email</code>, <code>entra_object_id</code>, <code>user</code>, <code>name</code>.
            </p>
            <FormGroup label="CSV file" labelFor="import-file">
              <FileInput
                text={fileName || 'Choose a CSV file…'}
                hasSelection={!!fileName}
                inputProps={{ id: 'import-file', accept: '.csv,.txt,text/csv,text/plain' }}
                onInputChange={(e) => {
                  const f = e.currentTarget.files?.[0];
                  if (!f) return;
                  void f.text().then((t) => {
                    setText(t);
                    setFileName(f.name);
                  });
                }}
              />
            </FormGroup>
            <FormGroup label="…or paste the list" labelFor="import-text">
              <TextArea
                id="import-text"
                fill
                rows={6}
                value={text}
                onChange={(e) => setText(e.target.value)}
                placeholder={'email,name\nann@contoso.com,Ann\nbob@contoso.com,Bob'}
                style={{ fontFamily: 'monospace', fontSize: 12 }}
              />
            </FormGroup>
            <RadioGroup label="Mode" selectedValue={mode} onChange={(e) => setMode(e.currentTarget.value as 'add' | 'replace')} inline>
              <Radio value="add" label="Add: assign seats to the listed users" />
              <Radio value="replace" label="Replace: the list is everyone — users not listed lose their seat" />
            </RadioGroup>
            {run.isError && <ErrorBox error={run.error} />}
            {preview && (
              <>
                <H5 style={{ marginTop: 8 }}>Preview — nothing has changed yet</H5>
                <ImportReport r={preview} />
              </>
            )}
          </>
        )}
      </DialogBody>
      <DialogFooter
        actions={
          applied ? (
            <Button intent="primary" text="Done" onClick={onClose} />
          ) : (
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button text="Preview" icon="eye-open" disabled={!text.trim()} loading={run.isPending && run.variables === false} onClick={() => run.mutate(false)} />
              <Button
                intent={preview && preview.release.length > 0 ? 'danger' : 'primary'}
                text={preview ? `Apply (${preview.add.length} add, ${preview.release.length} release)` : 'Apply'}
                title={!preview ? 'Preview first' : changes === 0 ? 'Nothing to change' : undefined}
                disabled={!preview || changes === 0}
                loading={run.isPending && run.variables === true}
                onClick={() => run.mutate(true)}
              />
            </>
          )
        }
      />
    </Dialog>
  );
}

// ImportReport lists what an import adds, keeps, releases and refuses.
export function ImportReport({ r }: { r: SeatImportResult }) {
  const done = r.applied;
  const section = (key: string, title: string, count: number, body: React.ReactNode, intent?: 'danger' | 'warning') => (
    <div data-testid={'import-' + key} style={{ marginBottom: 8 }}>
      <div>
        <Tag minimal intent={intent ?? 'none'}>{count}</Tag> <strong>{title}</strong>
      </div>
      {count > 0 && body}
    </div>
  );
  const table = (head: string[], rows: React.ReactNode[][]) => (
    <HTMLTable compact className="mg-table" style={{ marginTop: 4 }}>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((cells, i) => (
          <tr key={i}>
            {cells.map((c, j) => (
              <td key={j} style={j === cells.length - 1 ? { whiteSpace: 'normal' } : undefined}>
                {c}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </HTMLTable>
  );
  return (
    <div data-testid="import-report" style={{ maxHeight: 360, overflow: 'auto' }}>
      {section(
        'add',
        done ? 'added' : 'will be added',
        r.add.length,
        table(['Line', 'User', 'Name'], r.add.map((a) => [a.line, a.user, a.name || '—'])),
      )}
      {section('keep', done ? 'kept (already held a seat)' : 'kept (already hold a seat)', r.keep.length, table(['Line', 'User'], r.keep.map((k) => [k.line, k.user])))}
      {(r.mode === 'replace' || r.release.length > 0) &&
        section(
          'release',
          done ? 'released (not in the list)' : 'will be released (not in the list) — they lose access',
          r.release.length,
          table(['User'], r.release.map((x) => [x.user])),
          r.release.length > 0 ? 'warning' : undefined,
        )}
      {section(
        'refused',
        'refused',
        r.refused.length,
        table(['Line', 'Value', 'Reason'], r.refused.map((x) => [x.line, x.value, x.reason])),
        r.refused.length > 0 ? 'danger' : undefined,
      )}
    </div>
  );
}
