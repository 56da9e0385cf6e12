import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { H5, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';

export function RecentAlerts() {
  const q = useQuery({
    queryKey: queryKeys.alerts,
    queryFn: () => api.alerts.recent(50),
    refetchInterval: 60_000,
  });
  return (
    <section aria-label="Recent alerts">
      <H5>Recent alerts</H5>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && q.data.items.length === 0 && <Empty title="No alerts" action={<span>Nothing has needed attention.</span>} />}
      {q.isSuccess && q.data.items.length > 0 && (
        <DataTable
          label="Recent alerts"
          staticLook
          rows={q.data.items}
          rowKey={(a) => a.id}
          rowProps={() => ({ 'data-testid': 'alert-row' })}
          columns={[
            {
              id: 'type',
              header: 'Type',
              cell: (a) => (
                <Tag minimal intent="warning">
                  {a.type}
                </Tag>
              ),
            },
            { id: 'title', header: 'Title', className: 'mg-prose', style: { maxWidth: 300 }, cell: (a) => a.title },
            { id: 'detail', header: 'Detail', className: 'mg-prose', style: { maxWidth: 420 }, cell: (a) => a.detail || '—' },
            { id: 'count', header: 'Count', cell: (a) => a.count },
            { id: 'first', header: 'First seen', cell: (a) => formatDate(a.first_at) },
            { id: 'last', header: 'Last seen', cell: (a) => formatDate(a.last_at) },
            {
              id: 'link',
              header: '',
              cell: (a) =>
                a.link ? (
                  a.link.startsWith('/') ? (
                    <Link to={a.link}>open</Link>
                  ) : (
                    <a href={a.link} target="_blank" rel="noreferrer">
                      open
                    </a>
                  )
                ) : null,
            },
          ]}
        />
      )}
    </section>
  );
}
