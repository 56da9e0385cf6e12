// Settings: the version and mode, each marketplace connection (configured?
// last successful call? last error?), the URLs to give the marketplaces,
// the sandbox's buyer pages, Microsoft reconciliation and the API keys.
import { useMutation, useQuery } from '@tanstack/react-query';
import { Button, Callout, Card, Classes, H5, Tag } from '@blueprintjs/core';
import { api, queryKeys, type Connection } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { formatDate } from '../../shared/format';
import { ApiKeys } from '../apikeys/ApiKeys';
import { SecurityCard, TwoFactorCard } from '../auth/TwoFactor';
import { CopyButton, useMe, WRITERS } from '../../shared/components/common';
import { PageTitle } from '../../shared/components/PageTitle';

/** How long ago, roughly. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The connection's health: an error newer than the last success is failing. */
export function connectionState(configured: boolean, c?: Connection): { text: string; intent: 'success' | 'danger' | 'warning' | 'none' } {
  if (!configured) return { text: 'not configured', intent: 'none' };
  if (!c || (!c.last_success_at && !c.last_error_at)) return { text: 'no call yet', intent: 'warning' };
  const ok = c.last_success_at ? new Date(c.last_success_at).getTime() : 0;
  const bad = c.last_error_at ? new Date(c.last_error_at).getTime() : 0;
  if (bad > ok) return { text: 'failing', intent: 'danger' };
  return { text: 'working', intent: 'success' };
}

export function SettingsPage() {
  const me = useMe();
  const seller = me?.role !== 'customer_admin';
  const canWrite = !!me && WRITERS.includes(me.role);
  const q = useQuery({ queryKey: queryKeys.system, queryFn: api.system.get, refetchInterval: seller ? 30_000 : false });
  const reconcile = useMutation({
    mutationFn: () => api.system.reconcileAzure(),
    onSuccess: () => void q.refetch(),
  });
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  const s = q.data;
  const ms = s.microsoft;
  return (
    <div>
      <PageTitle title="Settings" />
      <dl className="mg-grid">
        <dt>Version</dt>
        <dd data-testid="version">{s.version}</dd>
        <dt>Mode</dt>
        <dd>
          {s.sandbox ? (
            <Tag intent="warning" minimal>
              sandbox — demo data, simulated marketplaces
            </Tag>
          ) : (
            'production'
          )}
        </dd>
        {seller && (
          <>
            <dt>Database</dt>
            <dd>{s.database}</dd>
            <dt>Base URL</dt>
            <dd>{s.base_url}</dd>
          </>
        )}
      </dl>
      {!seller || !s.aws || !ms ? null : (
        <>
          {s.sandbox && (
            <Callout intent="primary" icon="lab-test" title="Sandbox" style={{ maxWidth: 1200, marginTop: 12 }} data-testid="sandbox-controls">
              <p>Both marketplaces are simulated here and speak their real protocols. Act as a buyer to watch a subscription&apos;s whole life:</p>
              <ul style={{ margin: '4px 0', paddingLeft: 18 }}>
                <li>
                  <a href="/sandbox/aws" target="_blank" rel="noreferrer">
                    AWS buyer
                  </a>{' '}
                  — subscribe to a product (you are sent to the registration URL with a fresh token), then send AWS&apos;s notifications for
                  a subscription: confirm, payment failed, cancel, upgrade or expire a contract.
                </li>
                <li>
                  <a href="/sandbox/azure" target="_blank" rel="noreferrer">
                    Microsoft buyer
                  </a>{' '}
                  — purchase a plan, land on the landing page and sign in with the simulated Entra ID, then act at Microsoft: change plan or
                  seats, payment failed (suspend), reinstate, renew, unsubscribe.
                </li>
              </ul>
            </Callout>
          )}

          <H5 style={{ marginTop: 16 }}>Marketplace connections</H5>
          <div className="mg-conn">
            <ConnectionCard
              title="AWS Marketplace"
              configured={s.aws.configured}
              connection={s.aws.connection}
              notConfigured="Set the AWS region and credentials (or run with --sandbox) to meter usage and read SQS notifications."
              urls={[{ label: 'Fulfillment URL', hint: 'SaaS URL in the AWS Marketplace Management Portal', url: s.aws.registration_url }]}
            />
            <ConnectionCard
              title="Microsoft commercial marketplace"
              configured={ms.configured}
              connection={ms.connection}
              notConfigured="Set MARKETGATE_AZURE_TENANT_ID, MARKETGATE_AZURE_CLIENT_ID and MARKETGATE_AZURE_CLIENT_SECRET."
              urls={
                ms.configured
                  ? [
                      { label: 'Landing page URL', hint: 'Technical configuration in Partner Center', url: ms.landing_url ?? '' },
                      { label: 'Connection webhook', hint: 'Technical configuration in Partner Center', url: ms.webhook_url ?? '' },
                    ]
                  : []
              }
              extra={
                ms.configured && (
                  <>
                    <dt>Tenant / app id</dt>
                    <dd>
                      {ms.tenant_id} / {ms.client_id}
                    </dd>
                    <dt>Webhook authentication</dt>
                    <dd>{ms.webhook_auth}</dd>
                    <dt>API</dt>
                    <dd>{ms.api_url}</dd>
                  </>
                )
              }
              action={
                ms.configured &&
                canWrite && (
                  <div style={{ marginTop: 8 }}>
                    <Button small icon="refresh" text="Reconcile now" loading={reconcile.isPending} onClick={() => reconcile.mutate()} />{' '}
                    <span className={Classes.TEXT_MUTED}>compares every subscription with Microsoft and repairs differences</span>
                    {reconcile.isError && <ErrorBox error={reconcile.error} />}
                    {reconcile.isSuccess && (
                      <Callout intent="success" style={{ marginTop: 6 }} data-testid="reconcile-report">
                        Compared {reconcile.data.report.seen} subscriptions with Microsoft, repaired {reconcile.data.report.repaired}
                        {reconcile.data.report.failed > 0 && `, ${reconcile.data.report.failed} failed (see the server log)`}.
                      </Callout>
                    )}
                  </div>
                )
              }
            />
          </div>
          {me?.role === 'admin' && <ApiKeys />}
          {me?.role === 'admin' && <SecurityCard />}
        </>
      )}
      {me && <TwoFactorCard user={me} />}
    </div>
  );
}

function ConnectionCard(props: {
  title: string;
  configured: boolean;
  connection?: Connection;
  notConfigured: string;
  urls: { label: string; hint: string; url: string }[];
  extra?: React.ReactNode;
  action?: React.ReactNode;
}) {
  const { configured, connection: c } = props;
  const st = connectionState(configured, c);
  return (
    <Card data-testid="connection">
      <H5 style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
        {props.title}
        <Tag intent={st.intent} data-testid="connection-state" multiline style={{ flexShrink: 0 }}>
          {st.text}
        </Tag>
      </H5>
      {!configured ? (
        <p className={Classes.TEXT_MUTED}>{props.notConfigured}</p>
      ) : (
        <dl className="mg-grid">
          <dt>Last successful call</dt>
          <dd data-testid="last-success">{c?.last_success_at ? `${formatDate(c.last_success_at)} UTC (${ago(c.last_success_at)})` : 'none yet'}</dd>
          <dt>Last error</dt>
          <dd data-testid="last-error">
            {c?.last_error_at ? (
              <>
                {formatDate(c.last_error_at)} UTC ({ago(c.last_error_at)})
                <div className="mg-field-error" style={{ wordBreak: 'break-word' }}>
                  {c.last_error}
                </div>
              </>
            ) : (
              'none'
            )}
          </dd>
          {c?.last_call && (
            <>
              <dt>Last call</dt>
              <dd>
                <code>{c.last_call}</code> <span className={Classes.TEXT_MUTED}>(since this server started)</span>
              </dd>
            </>
          )}
          {props.urls.map((u) => (
            <UrlRow key={u.label} {...u} />
          ))}
          {props.extra}
        </dl>
      )}
      {!configured &&
        props.urls.map((u) => (
          <dl className="mg-grid" key={u.label}>
            <UrlRow {...u} />
          </dl>
        ))}
      {props.action}
    </Card>
  );
}

function UrlRow({ label, hint, url }: { label: string; hint: string; url: string }) {
  return (
    <>
      <dt title={hint}>{label}</dt>
      <dd>
        <code>{url}</code> <CopyButton text={url} />
        <div className={Classes.TEXT_MUTED}>{hint}</div>
      </dd>
    </>
  );
}
