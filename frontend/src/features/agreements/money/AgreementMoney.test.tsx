import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { queryKeys, type AgreementMoney as Money, type AgreementRequest, type Me, type MyAgreement as Mine } from '../../../shared/api';
import { AgreementMoney } from './AgreementMoney';
import { MyAgreement } from './MyAgreement';
import i18n from '../../../shared/i18n';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

interface Call {
  method: string;
  url: string;
  body: string;
  key: string;
}

function mockFetch(handler: (c: Call) => Response | undefined) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const h = new Headers(init?.headers);
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? ''), key: h.get('Idempotency-Key') ?? '' };
    calls.push(c);
    return handler(c) ?? json(404, { error: { code: 'not_found', message: 'unexpected ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

const money = (over: Partial<Money> = {}): Money => ({
  subscription_id: 7,
  agreement_id: 'agmt-1',
  available: true,
  note: '',
  invoices: [{ invoice_id: 'inv-1', type: 'INVOICE', amount: '100.00', currency: 'USD', max_refundable: '100.00', issued_at: '2026-11-01T00:00:00Z', period: '2026-11' }],
  charges: [{ id: 'ch-1', amount: '100.00', currency: 'USD', at: '2026-11-01T00:00:00Z' }],
  variable_term: { term_id: 'term-v', max_total: '1000.00', currency: 'USD', approval: 'WAIT_FOR_APPROVAL', expires: '' },
  remaining: '1000.00',
  requests: [],
  refund_reasons: ['BUYER_DISSATISFACTION', 'OTHER'],
  cancellation_reasons: ['TEST_AGREEMENT', 'OTHER'],
  ...over,
});

const request = (over: Partial<AgreementRequest> = {}): AgreementRequest => ({
  id: 1, kind: 'refund', status: 'pending', aws_status: 'PENDING', aws_id: 'ba-1', agreement_id: 'agmt-1', amount: '40', currency: 'USD',
  invoice_id: 'inv-1', reason_code: 'OTHER', name: '', note: '', status_message: '', error_code: '', error: '', charge_id: '',
  requested_by: 'admin@seller.example', withdrawn_by: '', respond_by: null, created_at: '2026-12-01T09:00:00Z', updated_at: '2026-12-01T09:00:00Z',
  summary: 'refund of 40 USD pending', history: [], ...over,
});

function renderAs(ui: React.ReactNode, role: Me['role']) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(queryKeys.me, { user: { id: 1, email: 'admin@seller.example', role } });
  return render(<QueryClientProvider client={qc}>{ui}</QueryClientProvider>);
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('AgreementMoney', () => {
  it('refunds an invoice line after stating that a refund cannot be undone', async () => {
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, money());
      if (c.url === '/api/subscriptions/7/agreement/refunds') return json(201, { request: request() });
    });
    renderAs(<AgreementMoney subscriptionId={7} />, 'admin');
    fireEvent.click(await screen.findByRole('button', { name: 'Refund invoice inv-1' }));
    expect(screen.getByTestId('consequence').textContent).toContain('cannot be undone');
    fireEvent.change(screen.getByLabelText(/Amount/), { target: { value: '40' } });
    fireEvent.click(screen.getByTestId('confirm-money'));
    await screen.findByTestId('money-done');
    const post = calls.find((c) => c.method === 'POST');
    expect(post && JSON.parse(post.body)).toEqual({ invoice_id: 'inv-1', amount: '40', reason_code: 'BUYER_DISSATISFACTION', note: '', confirm: true });
    expect(post?.key).not.toBe('');
  });

  it('shows AWS’s rule when the amount is refused, and offers no action to a viewer', async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, money());
      return json(400, { error: { code: 'invalid_input', message: 'too much', request_id: 'r1', fields: [{ field: 'amount', code: 'amount_exceeds_refundable', message: 'at most 100.00 USD' }] } });
    });
    renderAs(<AgreementMoney subscriptionId={7} />, 'admin');
    fireEvent.click(await screen.findByRole('button', { name: 'Refund invoice inv-1' }));
    fireEvent.change(screen.getByLabelText(/Amount/), { target: { value: '150' } });
    fireEvent.click(screen.getByTestId('confirm-money'));
    await waitFor(() => expect(screen.getByText('at most 100.00 USD')).toBeTruthy());
    cleanup();
    renderAs(<AgreementMoney subscriptionId={7} />, 'viewer');
    await screen.findByTestId('invoices');
    expect(screen.queryByRole('button', { name: /Refund/ })).toBeNull();
    expect(screen.queryByTestId('request-cancellation')).toBeNull();
  });

  it('shows a pending cancellation with the buyer’s deadline and a Withdraw button', async () => {
    mockFetch(() =>
      json(200, money({ requests: [request({ id: 2, kind: 'cancellation', amount: '', reason_code: 'TEST_AGREEMENT', respond_by: '2026-12-08T09:00:00Z' })] })),
    );
    renderAs(<AgreementMoney subscriptionId={7} />, 'admin');
    const pending = await screen.findByTestId('pending-cancellation');
    expect(pending.textContent).toContain('TEST_AGREEMENT');
    expect(screen.getByTestId('withdraw-cancellation')).toBeTruthy();
  });
});

describe('MyAgreement (customer portal)', () => {
  const mine: Mine = {
    subscription_id: 7, agreement_id: 'agmt-1', available: true,
    charges: [{ id: 'ch-1', amount: '100.00', currency: 'USD', at: '2026-11-01T00:00:00Z' }], invoices: [],
    pending_cancellation: { reason_code: 'TEST_AGREEMENT', amount: '', currency: '', name: '', respond_by: '2026-12-08T09:00:00Z', created_at: '2026-12-01T09:00:00Z' },
    pending_payment: null,
  };
  it('shows the charges and the seller’s pending cancellation, in Japanese too', async () => {
    mockFetch(() => json(200, mine));
    renderAs(<MyAgreement subscriptionId={7} />, 'customer_admin');
    expect((await screen.findByTestId('my-pending-cancellation')).textContent).toContain('test agreement');
    expect(screen.getByTestId('my-charges').textContent).toContain('100.00 USD');
    cleanup();
    await i18n.changeLanguage('ja');
    try {
      renderAs(<MyAgreement subscriptionId={7} />, 'customer_admin');
      expect((await screen.findByTestId('my-pending-cancellation')).textContent).toContain('テスト用の契約');
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});
