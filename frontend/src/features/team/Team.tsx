import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H2, H5, InputGroup, Tag } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { api, queryKeys, type User, type AdminInvite, type CustomerAdmins } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { InviteMailed } from '../users/InviteMailed';
import { formatDateTime } from '../../shared/i18n';
import { PageTitle } from '../../shared/components/PageTitle';

function inviteStatus(t: TFunction<'team'>, i: AdminInvite, now: Date): { open: boolean; text: string; intent: 'success' | 'none' | 'warning' | 'primary' } {
  if (i.used_at) return { open: false, text: t('status.accepted', { when: formatDateTime(i.used_at) }), intent: 'success' };
  if (i.revoked_at) return { open: false, text: t('status.revoked', { when: formatDateTime(i.revoked_at) }), intent: 'none' };
  if (new Date(i.expires_at) <= now) return { open: false, text: t('status.expired'), intent: 'warning' };
  return { open: true, text: t('status.open'), intent: 'primary' };
}

// TeamPage: the customer admins of one organisation and their invitations.
// A customer admin sees their own organisation (/team); seller staff open it
// per customer (/customers/:id/admins).
export function TeamPage() {
  const { t } = useTranslation('team');
  const { id } = useParams();
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(queryKeys.me)?.user;
  const seller = me?.role !== 'customer_admin';
  const canManage = me?.role === 'admin' || me?.role === 'operator' || me?.role === 'customer_admin';
  const customerId = seller ? id : undefined;
  const key = queryKeys.customerAdmins(customerId);
  const q = useQuery({
    queryKey: key,
    queryFn: () => api.customerAdmins.list(customerId),
  });
  const [email, setEmail] = useState('');
  const [link, setLink] = useState<{ email: string; url: string; emailed?: boolean } | null>(null);
  const [copied, setCopied] = useState(false);
  const invite = useMutation({
    mutationFn: () =>
      api.customerAdmins.invite(customerId ? { email: email.trim(), customer_id: Number(customerId) } : { email: email.trim() }),
    onSuccess: (r) => {
      setLink({ email: r.invite.email, url: r.url, emailed: r.emailed });
      setCopied(false);
      setEmail('');
      void qc.invalidateQueries({ queryKey: key });
    },
  });
  const [revoking, setRevoking] = useState<AdminInvite | null>(null);
  const revoke = useMutation({
    mutationFn: (inviteId: number) => api.customerAdmins.revokeInvite(inviteId),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
    onSettled: () => setRevoking(null),
  });

  if (seller && !id) return <Callout intent="warning" title={t('chooseCustomer')} />;
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  const { customer, admins, invites } = q.data;
  const now = new Date();
  return (
    <div>
      {seller ? (
        <PageTitle title={`${customer.name} — customer admins`}>
          <Link to="/customers">{t('customers')}</Link> / {customer.name} — {t('titleSeller')}
        </PageTitle>
      ) : (
        // In the customer portal the page's <h1> and title are the portal's ("Team").
        <H2 className="mg-h2">
          {customer.name} — {t('titleCustomer')}
        </H2>
      )}
      <p className={Classes.TEXT_MUTED}>
        {t('intro')}
        {customer.azure_tenant_id && ' ' + t('tenant', { id: customer.azure_tenant_id })}
        {customer.aws_account_id && ' ' + t('awsAccount', { id: customer.aws_account_id })}
      </p>
      <H5>{t('admins')}</H5>
      {admins.length === 0 ? (
        <p>{t('noAdmins')}</p>
      ) : (
        <AdminsTable admins={admins} label={t('admins')} rowTestId="admin-row" />
      )}
      <H5 style={{ marginTop: 16 }}>{t('invitations')}</H5>
      {canManage && (
        <form
          aria-label={t('invite.form')}
          className="mg-toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (email.trim()) invite.mutate();
          }}
        >
          <InputGroup
            type="email"
            aria-label={t('invite.email')}
            placeholder="colleague@example.com"
            value={email}
            onValueChange={setEmail}
            style={{ width: 280 }}
          />
          <Button type="submit" icon="envelope" text={t('invite.submit')} disabled={!email.trim()} loading={invite.isPending} />
        </form>
      )}
      {invite.isError && <ErrorBox error={invite.error} />}
      {link && <InviteMailed email={link.email} emailed={!!link.emailed} />}
      {link && (
        <Callout intent="success" title={t('link.title')} style={{ maxWidth: 900, marginBottom: 8 }} data-testid="invite-link">
          <p>
            {t('link.body', { email: link.email })}
          </p>
          <code style={{ userSelect: 'all', wordBreak: 'break-all' }} data-testid="invite-url">
            {link.url}
          </code>{' '}
          <Button
            small
            icon={copied ? 'tick' : 'duplicate'}
            text={copied ? t('link.copied') : t('link.copy')}
            onClick={() => void navigator.clipboard?.writeText(link.url).then(() => setCopied(true))}
          />
        </Callout>
      )}
      {revoke.isError && <ErrorBox error={revoke.error} />}
      {invites.length === 0 ? (
        <p>{t('noInvites')}</p>
      ) : (
        <DataTable
          label={t('invitations')}
          style={{ maxWidth: 900 }}
          rows={invites}
          rowKey={(i) => i.id}
          rowProps={() => ({ 'data-testid': 'invite-row' })}
          columns={[
            { id: 'email', header: t('columns.email'), cell: (i) => i.email },
            { id: 'by', header: t('columns.invitedBy'), cell: (i) => i.created_by || '—' },
            { id: 'sent', header: t('columns.sent'), cell: (i) => formatDateTime(i.created_at) },
            { id: 'expires', header: t('columns.expires'), cell: (i) => formatDateTime(i.expires_at) },
            {
              id: 'status',
              header: t('columns.status'),
              cell: (i) => {
                const st = inviteStatus(t, i, now);
                return (
                  <Tag minimal intent={st.intent}>
                    {st.text}
                  </Tag>
                );
              },
            },
            {
              id: 'actions',
              header: '',
              cell: (i) =>
                canManage &&
                inviteStatus(t, i, now).open && (
                  <Button
                    small
                    minimal
                    intent="danger"
                    text={t('revoke')}
                    loading={revoke.isPending && revoke.variables === i.id}
                    onClick={() => setRevoking(i)}
                  />
                ),
            },
          ]}
        />
      )}
      <ConfirmDialog
        isOpen={revoking !== null}
        confirmText={t('revokeConfirm')}
        intent="danger"
        icon="trash"
        loading={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onCancel={() => setRevoking(null)}
      >
        {t('revokeBody', { email: revoking?.email })}
      </ConfirmDialog>
    </div>
  );
}

/** An organisation's customer admins: how each signs in, when last, and whether they may. */
export function AdminsTable({ admins, label, rowTestId, staticLook }: { admins: CustomerAdmins['admins']; label: string; rowTestId: string; staticLook?: boolean }) {
  const { t } = useTranslation('team');
  return (
    <DataTable
      label={label}
      staticLook={staticLook}
      style={{ maxWidth: 900 }}
      rows={admins}
      rowKey={(a) => a.id}
      rowProps={() => ({ 'data-testid': rowTestId })}
      columns={[
        { id: 'email', header: t('columns.email'), cell: (a) => a.email },
        { id: 'name', header: t('columns.name'), cell: (a) => a.name || '—' },
        {
          id: 'signin',
          header: t('columns.signIn'),
          cell: (a) => (
            <>
              {a.entra && <Tag minimal>Microsoft Entra</Tag>} {a.password && <Tag minimal>{t('password')}</Tag>}
            </>
          ),
        },
        { id: 'last_login', header: t('columns.lastSignIn'), cell: (a) => (a.last_login_at ? formatDateTime(a.last_login_at) : t('never')) },
        { id: 'status', header: t('columns.status'), cell: (a) => (a.disabled ? <Tag minimal intent="danger">{t('disabled')}</Tag> : <Tag minimal intent="success">{t('active')}</Tag>) },
      ]}
    />
  );
}
