// The customer portal's permissions tab: what the app asks an administrator
// of the customer's Microsoft tenant to grant beyond sign-in (User.Read),
// why, where the tenant stands, and a "Grant permissions" button that goes
// through Entra's admin consent and comes back here (?consent=granted or
// declined) to show the outcome.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { Button, Callout, Classes, H5, Spinner, Tag, type Intent } from '@blueprintjs/core';
import { DataTable } from '../../shared/components/DataTable';
import { api, ApiError, queryKeys, type AdminConsent, type ConsentPermissions } from '../../shared/api';
import { formatDateTime } from '../../shared/i18n';

const STATUS_INTENT: Record<AdminConsent['status'], Intent> = {
  not_required: 'none',
  not_asked: 'warning',
  granted: 'success',
  declined: 'danger',
  outdated: 'warning',
};

/** Sends the browser to Entra's admin consent page (replaced in tests). */
export const navigate = { to: (url: string) => window.location.assign(url) };

/** The permissions tab's title, in the customer's language. */
export function PermissionsTitle() {
  const { t } = useTranslation('consent');
  return <>{t('title')}</>;
}

export function PermissionsPanel({ subscriptionId }: { subscriptionId: number }) {
  const { t } = useTranslation('consent');
  const q = useQuery({ queryKey: queryKeys.subscription.permissions(subscriptionId), queryFn: () => api.consent.permissions(subscriptionId) });
  if (q.isError) {
    return (
      <Callout intent="danger" title={t('loadFailed')} data-testid="permissions-error">
        <p>{q.error instanceof ApiError ? q.error.message : t('network')}</p>
        <Button small text={t('retry')} onClick={() => void q.refetch()} />
      </Callout>
    );
  }
  if (q.isPending) return <Spinner size={24} aria-label={t('loading')} />;
  return <Panel data={q.data} />;
}

function Panel({ data }: { data: ConsentPermissions }) {
  const { t } = useTranslation('consent');
  const [params] = useSearchParams();
  const returned = params.get('consent');
  const grant = useMutation({
    mutationFn: () => api.consent.grant(data.subscription_id),
    onSuccess: (a) => navigate.to(a.redirect_url),
  });
  const c = data.consent;
  if (data.marketplace !== 'azure' || data.permissions.length === 0) {
    return (
      <section aria-labelledby="permissions-title" data-testid="permissions-panel">
        <H5 id="permissions-title">{t('title')}</H5>
        <p className={Classes.TEXT_MUTED}>{data.marketplace !== 'azure' ? t('notMicrosoft') : t('noneNeeded')}</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="permissions-title" data-testid="permissions-panel">
      <H5 id="permissions-title">{t('title')}</H5>
      {returned === 'granted' && c.status === 'granted' && (
        <Callout intent="success" icon="tick-circle" title={t('returned.granted')} role="status" data-testid="consent-outcome" />
      )}
      {returned === 'declined' && c.status !== 'granted' && (
        <Callout intent="warning" title={t('returned.declined')} role="status" data-testid="consent-outcome">
          {c.error_description && <p>{c.error_description}</p>}
        </Callout>
      )}
      <p>{t('intro')}</p>
      <DataTable
        rows={data.permissions}
        columns={[
          { id: 'permission', header: t('permission'), cell: (p) => <code title={p.scope}>{p.name}</code> },
          { id: 'resource', header: t('resource'), cell: (p) => (p.resource === 'Microsoft Graph' ? t('graph') : p.resource) },
          { id: 'why', header: t('why'), cell: (p) => p.reason },
        ]}
        rowKey={(p) => p.scope}
        rowProps={() => ({ 'data-testid': 'permission-row' })}
        label={t('tableLabel')}
        style={{ width: '100%' }}
      />
      <p style={{ marginTop: 12 }} data-testid="consent-status">
        <Tag intent={STATUS_INTENT[c.status]} minimal={c.status === 'not_required'}>
          {t(`status.${c.status}`)}
        </Tag>{' '}
        <StatusDetail consent={c} />
      </p>
      {data.can_grant ? (
        <>
          <Button
            intent="primary"
            icon="shield"
            text={c.status === 'granted' ? t('grantAgain') : t('grant')}
            loading={grant.isPending}
            onClick={() => grant.mutate()}
            data-testid="grant-permissions"
          />
          <p className={Classes.TEXT_MUTED} style={{ marginTop: 6 }}>
            {t('adminNote')}
          </p>
        </>
      ) : (
        <p className={Classes.TEXT_MUTED}>{t(`blocked.${data.blocked || 'not_configured'}`)}</p>
      )}
      {grant.isError && (
        <Callout intent="danger" title={t('grantFailed')} role="alert">
          {grant.error instanceof ApiError ? grant.error.message : t('network')}
        </Callout>
      )}
    </section>
  );
}

function StatusDetail({ consent: c }: { consent: AdminConsent }) {
  const { t } = useTranslation('consent');
  switch (c.status) {
    case 'granted':
      return <span>{t('detail.granted', { when: formatDateTime(c.granted_at), who: c.decided_by || t('someone') })}</span>;
    case 'declined':
      return (
        <span>
          {t('detail.declined', { when: formatDateTime(c.decided_at), who: c.decided_by || t('someone') })}
          {c.error_description && (
            <>
              {' '}
              {t('detail.reason', { reason: c.error_description })}
            </>
          )}
        </span>
      );
    case 'outdated':
      return <span>{t('detail.outdated', { when: formatDateTime(c.granted_at) })}</span>;
    case 'not_asked':
      return <span>{t('detail.not_asked')}</span>;
    default:
      return null;
  }
}
