import { Button, Callout, HTMLSelect, NonIdealState, Spinner } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { UNREACHABLE } from '../api/client';
import i18n, { formatNumber } from '../i18n';

/** A title for a failed request that says what kind of failure it is (in the user's language). */
export function errorTitle(e: ApiError | null): string {
  const t = (k: string) => i18n.t(`common:error.kind.${k}`);
  if (!e) return t('unknown');
  if (e.code === UNREACHABLE) return t('unreachable');
  if (e.code === 'invalid_credentials') return t('signIn');
  if (e.status === 400) return t('input');
  if (e.status === 401) return t('signInAgain');
  if (e.status === 403) return t('forbidden');
  if (e.status === 404) return t('notFound');
  if (e.status === 409) return t('conflict');
  if (e.status === 429) return t('tooMany');
  if (e.status >= 500) return t('server');
  return t('other');
}

/** Shows a failed request: the server's message and its request id (and a way to try again). */
export function ErrorBox({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const { t } = useTranslation('common');
  const e = error instanceof ApiError ? error : null;
  const text = e ? e.message : error instanceof Error ? error.message : t('error.unknown');
  return (
    <Callout intent="danger" title={title ?? errorTitle(e)} role="alert">
      <div>{text}</div>
      {e?.requestId && <div className="mg-error-id">{t('error.requestId', { id: e.requestId })}</div>}
      {onRetry && <Button size="small" icon="refresh" text={t('retry')} onClick={onRetry} style={{ marginTop: 6 }} />}
    </Callout>
  );
}

export function Loading() {
  const { t } = useTranslation('common');
  return <Spinner size={24} aria-label={t('loadingLabel')} />;
}

export function Empty({ title, action }: { title: string; action?: React.ReactNode }) {
  return <NonIdealState icon="search" title={title} action={action as React.JSX.Element | undefined} />;
}

export function Pager(props: {
  offset: number;
  limit: number;
  total: number;
  /** More match than total (a capped count): there is a next page. */
  more?: boolean;
  onOffset: (o: number) => void;
  onLimit?: (l: number) => void;
}) {
  const { t } = useTranslation('common');
  const { offset, limit, total, more = false, onOffset, onLimit } = props;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <div className="mg-pager">
      <Button small icon="chevron-left" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))} aria-label={t('pager.previous')} />
      <Button small icon="chevron-right" disabled={to >= total && !more} onClick={() => onOffset(offset + limit)} aria-label={t('pager.next')} />
      <span data-testid="pager-summary">
        {t(more ? 'pager.summaryMore' : 'pager.summary', { from: formatNumber(from), to: formatNumber(to), total: formatNumber(total) })}
      </span>
      {onLimit && (
        <HTMLSelect minimal value={limit} onChange={(e) => onLimit(Number(e.currentTarget.value))} aria-label={t('pager.pageSize')}>
          {[25, 50, 100, 200].map((n) => (
            <option key={n} value={n}>
              {t('pager.perPage', { n })}
            </option>
          ))}
        </HTMLSelect>
      )}
    </div>
  );
}
