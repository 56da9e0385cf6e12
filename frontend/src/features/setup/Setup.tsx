// The Setup page: every go-live check per marketplace, run live against the
// configured services, with the fix and the values to paste (copy buttons).
import { Button, Callout, Card, H2, Icon, Tag } from '@blueprintjs/core';
import type { SetupCheck } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { CopyButton } from '../../shared/components/common';
import { PageTitle } from '../../shared/components/PageTitle';
import { formatDate } from '../../shared/format';
import { groups, statusLook } from './setupModel';
import { useSetupReport } from './useSetupReport';

/** One value to paste elsewhere: short ones inline, long ones (a policy) as a block. */
function Paste({ label, value }: { label: string; value: string }) {
  const long = value.includes('\n') || value.length > 90;
  return (
    <div className="mg-setup-value" data-testid="setup-value">
      <span className="mg-setup-value-label">{label}</span>{' '}
      {long ? <pre className="mg-setup-pre">{value}</pre> : <code>{value}</code>} <CopyButton text={value} label={`Copy ${label}`} />
    </div>
  );
}

export function CheckRow({ check }: { check: SetupCheck }) {
  const look = statusLook(check.status);
  return (
    <li className="mg-setup-check" data-testid={`check-${check.id}`} data-status={check.status}>
      <div>
        <Tag intent={look.intent} minimal icon={<Icon icon={look.icon} />} className="mg-setup-status">
          {look.text}
        </Tag>{' '}
        <strong>{check.title}</strong>
        {check.subject && <span className="mg-muted"> — {check.subject}</span>}
      </div>
      <p className="mg-setup-message">{check.message}</p>
      {check.fix && check.status !== 'ok' && (
        <Callout intent={check.status === 'fail' ? 'danger' : 'warning'} icon="wrench" title="How to fix it" compact>
          <p style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{check.fix}</p>
        </Callout>
      )}
      {(check.values ?? []).map((v) => (
        <Paste key={v.label} label={v.label} value={v.value} />
      ))}
    </li>
  );
}

export function SetupPage() {
  const q = useSetupReport();
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} title="The setup checks could not be run" />;
  const r = q.data;
  return (
    <div className="mg-setup">
      <PageTitle title="Setup" />
      <p>
        Each step is checked now against the configured marketplace, with the exact fix when it fails. The same checks run from the command line:{' '}
        <code>marketgate doctor</code>.
      </p>
      <div style={{ marginBottom: 12 }}>
        <Button icon="refresh" text="Run the checks again" loading={q.isFetching} onClick={() => void q.refetch()} data-testid="setup-rerun" />{' '}
        <span className="mg-muted">Checked {formatDate(r.checked_at)}</span>
        {r.azure_secret_expires_at && <span className="mg-muted"> · Microsoft client secret expires {formatDate(r.azure_secret_expires_at)}</span>}
      </div>
      {groups(r).map((g) => (
        <Card key={g.id} className="mg-setup-card" data-testid={`setup-${g.id}`}>
          <H2 className="mg-h2">
            {g.name}{' '}
            <Tag intent={g.done ? 'success' : 'danger'} minimal>
              {g.done ? (g.configured ? 'ready' : 'not configured') : `${g.failed} to fix`}
            </Tag>
          </H2>
          <ul className="mg-setup-list">
            {g.checks.map((c) => (
              <CheckRow key={c.id + (c.subject ?? '')} check={c} />
            ))}
          </ul>
        </Card>
      ))}
    </div>
  );
}
