import { useEffect, useRef, useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FileInput, FormGroup, H5, InputGroup, ProgressBar, Radio, RadioGroup, TextArea } from '@blueprintjs/core';
import { api, ApiError, type SeatSummary, type SeatImportResult } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { ImportReport } from './ImportReport';

export function userOf(s: { email: string; entra_object_id: string }) {
  return s.email || s.entra_object_id;
}

export function SeatSummaryBar({ summary: s }: { summary: SeatSummary }) {
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

export function AssignForm(props: {
  id: string;
  summary: SeatSummary;
  onAssigned: () => void;
  /** Counts the seat changes made otherwise (release, import): each clears the note about the last assignment. */
  changes?: number;
}) {
  const { id, summary, onAssigned, changes = 0 } = props;
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
  const { reset } = assign;
  const seen = useRef(changes);
  useEffect(() => {
    if (seen.current !== changes) reset();
    seen.current = changes;
  }, [changes, reset]);
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

export function ImportDialog({ id, onClose, onApplied }: { id: string; onClose: () => void; onApplied: () => void }) {
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
