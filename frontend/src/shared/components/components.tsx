import { Button, Callout, HTMLSelect, NonIdealState, Spinner } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { formatNumber } from '../i18n';

/** Shows a failed request: the server's message and its request id. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation('common');
  const e = error instanceof ApiError ? error : null;
  return (
    <Callout intent="danger" title={title ?? (e?.status === 404 ? t('error.notFound') : t('error.title'))} role="alert">
      <div>{e ? e.message : error instanceof Error ? error.message : t('error.unknown')}</div>
      {e?.requestId && <div className="mg-error-id">{t('error.requestId', { id: e.requestId })}</div>}
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
  onOffset: (o: number) => void;
  onLimit?: (l: number) => void;
}) {
  const { t } = useTranslation('common');
  const { offset, limit, total, onOffset, onLimit } = props;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <div className="mg-pager">
      <Button small icon="chevron-left" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))} aria-label={t('pager.previous')} />
      <Button small icon="chevron-right" disabled={to >= total} onClick={() => onOffset(offset + limit)} aria-label={t('pager.next')} />
      <span data-testid="pager-summary">
        {t('pager.summary', { from: formatNumber(from), to: formatNumber(to), total: formatNumber(total) })}
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
