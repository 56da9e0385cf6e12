import { useEffect, useRef, useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FileInput, FormGroup, H5, InputGroup, ProgressBar, Radio, RadioGroup, TextArea } from '@blueprintjs/core';
import { Trans, useTranslation } from 'react-i18next';
import { api, ApiError, type SeatSummary, type SeatImportResult } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { formatNumber } from '../../shared/i18n';
import { ImportReport } from './ImportReport';

export function userOf(s: { email: string; entra_object_id: string }) {
  return s.email || s.entra_object_id;
}

export function SeatSummaryBar({ summary: s }: { summary: SeatSummary }) {
  const { t } = useTranslation('seats');
  const stat = (n: number, label: string, testid: string, intent?: 'warning' | 'danger') => (
    <div className="mg-stat" data-testid={testid}>
      <span className={'mg-stat-n' + (intent ? ' mg-stat-' + intent : '')}>{formatNumber(n)}</span> {label}
    </div>
  );
  return (
    <div className="mg-seat-summary" data-testid="seat-summary">
      {stat(s.bought, t('summary.bought'), 'seats-bought')}
      {stat(s.assigned, t('summary.assigned'), 'seats-assigned')}
      {stat(s.free, t('summary.free'), 'seats-free')}
      {stat(s.over, t('summary.over'), 'seats-over', s.over > 0 ? 'danger' : undefined)}
      <ProgressBar
        className="mg-seat-bar"
        animate={false}
        stripes={false}
        intent={s.over > 0 ? 'danger' : s.free === 0 ? 'warning' : 'primary'}
        value={s.bought > 0 ? Math.min(1, s.assigned / s.bought) : s.assigned > 0 ? 1 : 0}
      />
      <span className={Classes.TEXT_MUTED}>
        {s.allow_over_assignment && t('summary.allowOver') + ' · '}
        {s.auto_assign && t('summary.autoAssign') + ' · '}
        {s.over_quantity_policy === 'newest_unlicensed' ? t('summary.policyRefused') : t('summary.policyKept')}
      </span>
    </div>
  );
}

function MoreSeats({ summary, said }: { summary: SeatSummary; said: string }) {
  const { t } = useTranslation('seats');
  const m = summary.more_seats;
  if (!m) return null;
  return (
    <Callout icon="shopping-cart" title={t('moreSeats')} style={{ maxWidth: 900, marginTop: 8 }} data-testid="more-seats">
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
  const { t } = useTranslation('seats');
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
      aria-label={t('assign.form')}
      style={{ marginBottom: 12, maxWidth: 900 }}
      onSubmit={(e) => {
        e.preventDefault();
        if (user.trim()) assign.mutate();
      }}
    >
      <div className="mg-toolbar" style={{ marginBottom: 4 }}>
        <InputGroup
          id="seat-user"
          aria-label={t('assign.user')}
          placeholder={t('assign.userPlaceholder')}
          value={user}
          onValueChange={(v) => {
            setUser(v);
            if (assign.isError) assign.reset();
          }}
          style={{ width: 300 }}
        />
        <InputGroup id="seat-name" aria-label={t('assign.name')} placeholder={t('assign.name')} value={name} onValueChange={setName} style={{ width: 200 }} />
        <Button type="submit" intent="primary" icon="add" text={t('assign.submit')} disabled={!user.trim()} loading={assign.isPending} />
        {assign.isSuccess && (
          <span role="status" className={Classes.TEXT_MUTED}>
            {t('assign.done', { user: userOf(assign.data.seat) })}
          </span>
        )}
      </div>
      {assign.isError && <ErrorBox error={assign.error} title={assign.error instanceof ApiError && assign.error.status === 409 ? t('assign.notAssigned') : undefined} />}
      {noFree && <MoreSeats summary={summary} said={assign.error?.message ?? ''} />}
    </form>
  );
}

export function ImportDialog({ id, onClose, onApplied }: { id: string; onClose: () => void; onApplied: () => void }) {
  const { t } = useTranslation('seats');
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
    <Dialog isOpen onClose={onClose} title={t('import.title')} style={{ width: 760 }}>
      <DialogBody>
        {applied ? (
          <>
            <Callout intent="success" title={t('import.appliedTitle')} data-testid="import-applied" style={{ marginBottom: 8 }}>
              {t('import.appliedBody', {
                added: formatNumber(applied.add.length),
                kept: formatNumber(applied.keep.length),
                released: formatNumber(applied.release.length),
                refused: formatNumber(applied.refused.length),
                assigned: formatNumber(applied.summary.assigned),
                bought: formatNumber(applied.summary.bought),
              })}
            </Callout>
            <ImportReport r={applied} />
          </>
        ) : (
          <>
            <p>
              <Trans t={t} i18nKey="import.help" components={{ code: <code /> }} />
            </p>
            <FormGroup label={t('import.file')} labelFor="import-file">
              <FileInput
                text={fileName || t('import.chooseFile')}
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
            <FormGroup label={t('import.paste')} labelFor="import-text">
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
            <RadioGroup label={t('import.mode')} selectedValue={mode} onChange={(e) => setMode(e.currentTarget.value as 'add' | 'replace')} inline>
              <Radio value="add" label={t('import.modeAdd')} />
              <Radio value="replace" label={t('import.modeReplace')} />
            </RadioGroup>
            {run.isError && <ErrorBox error={run.error} />}
            {preview && (
              <>
                <H5 style={{ marginTop: 8 }}>{t('import.previewTitle')}</H5>
                <ImportReport r={preview} />
              </>
            )}
          </>
        )}
      </DialogBody>
      <DialogFooter
        actions={
          applied ? (
            <Button intent="primary" text={t('import.done')} onClick={onClose} />
          ) : (
            <>
              <Button text={t('import.cancel')} onClick={onClose} />
              <Button text={t('import.preview')} icon="eye-open" disabled={!text.trim()} loading={run.isPending && run.variables === false} onClick={() => run.mutate(false)} />
              <Button
                intent={preview && preview.release.length > 0 ? 'danger' : 'primary'}
                text={preview ? t('import.applyCounts', { add: formatNumber(preview.add.length), release: formatNumber(preview.release.length) }) : t('import.apply')}
                title={!preview ? t('import.previewFirst') : changes === 0 ? t('import.nothing') : undefined}
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
