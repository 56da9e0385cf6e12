// The seller's view of a Microsoft tenant's admin consent to the app's
// extra permissions: a small section on the subscription and customer
// pages (the seller console is in English).
import { Classes, H5, Tag, type Intent } from '@blueprintjs/core';
import type { AdminConsent } from '../../shared/api';
import { formatDateTime } from '../../shared/i18n';

const LABEL: Record<AdminConsent['status'], [string, Intent]> = {
  not_required: ['not needed', 'none'],
  not_asked: ['not granted yet', 'warning'],
  granted: ['granted', 'success'],
  declined: ['declined', 'danger'],
  outdated: ['more permissions needed', 'warning'],
};

export function ConsentSummary({ consent: c, title = 'Admin consent (app permissions)' }: { consent: AdminConsent; title?: string }) {
  const [label, intent] = LABEL[c.status];
  return (
    <section aria-label={title} data-testid="consent-summary" style={{ margin: '8px 0 12px' }}>
      <H5 style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
        {title}
        <Tag intent={intent} minimal data-testid="consent-summary-status">
          {label}
        </Tag>
      </H5>
      {c.last_decision === 'granted' && (
        <p>
          Granted {formatDateTime(c.granted_at)} by {c.decided_by || 'an administrator'}: {c.granted.map((s) => <code key={s} style={{ marginRight: 6 }}>{s}</code>)}
        </p>
      )}
      {c.last_decision === 'declined' && (
        <p>
          Declined {formatDateTime(c.decided_at)} by {c.decided_by || 'an administrator'}
          {c.error && (
            <>
              {' '}
              (<code>{c.error}</code>
              {c.error_description && `: ${c.error_description}`})
            </>
          )}
          .
        </p>
      )}
      {c.status === 'not_asked' && <p className={Classes.TEXT_MUTED}>The customer's administrator has not granted the permissions yet (the customer portal offers it after activation).</p>}
      {c.status === 'outdated' && <p className={Classes.TEXT_MUTED}>The offer now asks for more than was granted: {c.requested.filter((s) => !c.granted.includes(s)).join(', ')}.</p>}
    </section>
  );
}
