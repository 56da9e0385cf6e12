// Shared pieces of the customer portal: the page heading and document
// title, dates as days, and a failed request in the customer's words.
import { useEffect } from 'react';
import { Button, Callout } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../shared/api';
import { formatDateTime } from '../../shared/i18n';

/** Sets the document's title: the page, then the portal's name. */
export function usePageTitle(title: string) {
  const { t } = useTranslation('portal');
  const suffix = t('titleSuffix');
  useEffect(() => {
    document.title = title ? `${title} – ${suffix}` : suffix;
  }, [title, suffix]);
}

/** The page's one <h1>, which also sets the document's title. */
export function PageTitle({ children }: { children: string }) {
  usePageTitle(children);
  return <h1 className="bp6-heading mg-portal-h1">{children}</h1>;
}

/**
 * A marketplace date (a term's start or end, a renewal day) as a day in the
 * current language. These are calendar days, so they are read in UTC: a
 * buyer west of Greenwich must not see the day before.
 */
export function day(s: string | null | undefined): string {
  return formatDateTime(s, { dateStyle: 'long', timeZone: 'UTC' });
}

/** A failed request: what happened, the request id for support, and a retry. */
export function PortalError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation('portal');
  const e = error instanceof ApiError ? error : null;
  const text = e?.status === 404 ? t('error.notFound') : e ? e.message : error instanceof Error ? error.message : '';
  return (
    <Callout intent="danger" title={t('error.title')} role="alert">
      <p>{text}</p>
      {e?.requestId && <p className="mg-error-id">{t('error.requestId', { id: e.requestId })}</p>}
      {onRetry && <Button small icon="refresh" text={t('error.retry')} onClick={onRetry} />}
    </Callout>
  );
}
