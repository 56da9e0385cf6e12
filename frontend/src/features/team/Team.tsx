import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5, InputGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys, type User, type AdminInvite, type CustomerAdmins } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { InviteMailed } from '../users/InviteMailed';
import { formatDate } from '../../shared/format';
import { PageTitle } from '../../shared/components/PageTitle';

function inviteStatus(i: AdminInvite, now: Date): { text: string; intent: 'success' | 'none' | 'warning' | 'primary' } {
  if (i.used_at) return { text: 'accepted ' + formatDate(i.used_at), intent: 'success' };
  if (i.revoked_at) return { text: 'revoked ' + formatDate(i.revoked_at), intent: 'none' };
  if (new Date(i.expires_at) <= now) return { text: 'expired', intent: 'warning' };
  return { text: 'open', intent: 'primary' };
}

// TeamPage: the customer admins of one organisation and their invitations.
// A customer admin sees their own organisation (/team); seller staff open it
// per customer (/customers/:id/admins).
export function TeamPage() {
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

  if (seller && !id) return <Callout intent="warning" title="Choose a customer on the Customers page" />;
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  const { customer, admins, invites } = q.data;
  const now = new Date();
  return (
    <div>
      <PageTitle title={`${customer.name} — ${seller ? 'customer admins' : 'team'}`}>
        {seller && (
          <>
            <Link to="/customers">Customers</Link> /{' '}
          </>
        )}
        {customer.name} — {seller ? 'customer admins' : 'team'}
      </PageTitle>
      <p className={Classes.TEXT_MUTED}>
        Customer admins see this organisation&apos;s subscriptions and assign its seats.
        {customer.azure_tenant_id && ` Entra tenant ${customer.azure_tenant_id}.`}
        {customer.aws_account_id && ` AWS account ${customer.aws_account_id}.`}
      </p>
      <H5>Admins</H5>
      {admins.length === 0 ? (
        <p>No admins yet.</p>
      ) : (
        <AdminsTable admins={admins} label="Admins" rowTestId="admin-row" />
      )}
      <H5 style={{ marginTop: 16 }}>Invitations</H5>
      {canManage && (
        <form
          aria-label="Invite an admin"
          className="mg-toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (email.trim()) invite.mutate();
          }}
        >
          <InputGroup
            type="email"
            aria-label="E-mail of the new admin"
            placeholder="colleague@example.com"
            value={email}
            onValueChange={setEmail}
            style={{ width: 280 }}
          />
          <Button type="submit" icon="envelope" text="Invite an admin" disabled={!email.trim()} loading={invite.isPending} />
        </form>
      )}
      {invite.isError && <ErrorBox error={invite.error} />}
      {link && <InviteMailed email={link.email} emailed={!!link.emailed} />}
      {link && (
        <Callout intent="success" title="Send this link to the new admin — it is shown only now" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="invite-link">
          <p>
            For {link.email}. It works once and expires after 7 days.
          </p>
          <code style={{ userSelect: 'all', wordBreak: 'break-all' }} data-testid="invite-url">
            {link.url}
          </code>{' '}
          <Button
            small
            icon={copied ? 'tick' : 'duplicate'}
            text={copied ? 'Copied' : 'Copy'}
            onClick={() => void navigator.clipboard?.writeText(link.url).then(() => setCopied(true))}
          />
        </Callout>
      )}
      {revoke.isError && <ErrorBox error={revoke.error} />}
      {invites.length === 0 ? (
        <p>No invitations.</p>
      ) : (
        <DataTable
          label="Invitations"
          style={{ maxWidth: 900 }}
          rows={invites}
          rowKey={(i) => i.id}
          rowProps={() => ({ 'data-testid': 'invite-row' })}
          columns={[
            { id: 'email', header: 'E-mail', cell: (i) => i.email },
            { id: 'by', header: 'Invited by', cell: (i) => i.created_by || '—' },
            { id: 'sent', header: 'Sent', cell: (i) => formatDate(i.created_at) },
            { id: 'expires', header: 'Expires', cell: (i) => formatDate(i.expires_at) },
            {
              id: 'status',
              header: 'Status',
              cell: (i) => {
                const st = inviteStatus(i, now);
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
                inviteStatus(i, now).text === 'open' && (
                  <Button
                    small
                    minimal
                    intent="danger"
                    text="Revoke"
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
        confirmText="Revoke invitation"
        intent="danger"
        icon="trash"
        loading={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onCancel={() => setRevoking(null)}
      >
        Revoke the invitation for {revoking?.email}? The link stops working.
      </ConfirmDialog>
    </div>
  );
}

/** An organisation's customer admins: how each signs in, when last, and whether they may. */
export function AdminsTable({ admins, label, rowTestId, staticLook }: { admins: CustomerAdmins['admins']; label: string; rowTestId: string; staticLook?: boolean }) {
  return (
    <DataTable
      label={label}
      staticLook={staticLook}
      style={{ maxWidth: 900 }}
      rows={admins}
      rowKey={(a) => a.id}
      rowProps={() => ({ 'data-testid': rowTestId })}
      columns={[
        { id: 'email', header: 'E-mail', cell: (a) => a.email },
        { id: 'name', header: 'Name', cell: (a) => a.name || '—' },
        {
          id: 'signin',
          header: 'Signs in with',
          cell: (a) => (
            <>
              {a.entra && <Tag minimal>Microsoft Entra</Tag>} {a.password && <Tag minimal>password</Tag>}
            </>
          ),
        },
        { id: 'last_login', header: 'Last sign-in', cell: (a) => (a.last_login_at ? formatDate(a.last_login_at) : 'never') },
        { id: 'status', header: 'Status', cell: (a) => (a.disabled ? <Tag minimal intent="danger">disabled</Tag> : <Tag minimal intent="success">active</Tag>) },
      ]}
    />
  );
}
