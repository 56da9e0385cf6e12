import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { AgreementMoney, AgreementPage as Page } from '../../shared/api';
import { json, renderRoutes } from '../../shared/test/testutil';
import { AgreementPage } from './AgreementPage';
import { durationText } from './agreementText';
import { daysLeft, RenewalsPage } from '../renewals/Renewals';

const page: Page = {
  subscription_id: 7,
  agreement_id: 'agmt-2',
  read_at: '2026-12-01T10:00:00Z',
  error: '',
  linked_agreements: ['agmt-1', 'agmt-2'],
  renewal_events: {
    agreement_id: 'agmt-2', subscription_id: 7, subscription_name: 'Contoso', customer_id: 1, customer_name: 'Contoso', offer_name: 'CA', state: 'active',
    ends_at: '2027-02-01T00:00:00Z', days_before_end: 60, auto_renew: false, turned_off_by: 'buyer', turned_off_at: '2026-11-30T00:00:00Z',
    lockout_at: null, renewal_upcoming_at: null, terms_finalized_at: null, last_event_at: null,
  },
  agreement: {
    agreement_id: 'agmt-2', status: 'ACTIVE', agreement_type: 'PurchaseAgreement', acceptor_account_id: '111122223333', proposer_account_id: '000000000000',
    offer_id: 'offer-1', product_id: 'prod-ca', accepted_at: null, starts_at: '2026-02-01T00:00:00Z', ends_at: '2027-02-01T00:00:00Z', duration: 'P12M',
    initial_agreement_id: 'agmt-1', estimated_value: '330.00', currency: 'USD',
    pricing: [{ kind: 'configurable_upfront', currency: 'USD', price: '', duration: 'P12M', billing_period: '', max_total: '' }],
    dimensions: [{ key: 'users', term: 'configurable_upfront', price: '12.50', units: 20, max_quantity: null }],
    free_trial: { duration: 'P14D', days: 14, ends_at: '2026-02-15T00:00:00Z', dimensions: ['users'] },
    renewal: { has_renewal_term: true, auto_renew: false, behavior: 'EXPIRE', reason_code: 'ACCEPTOR_RENEW_OPTED_OUT', turned_off_by: 'buyer',
      renewal_offer_id: 'offer-1', lockout_period: 'P30D', max_renewals: null },
    refund_policy: 'Refunds within 30 days',
    documents: [{ type: 'StandardEula', url: '', version: '2025-01' }],
    entitlements: [{ license_arn: 'arn:aws:license-manager::1:license:l-2', status: 'PROVISIONED', reason: 'AGREEMENT_ACTIVE', resource: 'prod-ca' }],
    related: [{ agreement_id: 'agmt-1', relation: 'earlier', status: 'RENEWED', starts_at: '2025-02-01T00:00:00Z', ends_at: '2026-02-01T00:00:00Z', subscription_id: 5 }],
  },
};

// The agreement's money as the API answers it when AWS reports none yet.
const noMoney: AgreementMoney = {
  subscription_id: 7,
  agreement_id: 'agmt-2',
  available: true,
  note: '',
  invoices: [],
  charges: [],
  variable_term: null,
  remaining: '',
  requests: [],
  refund_reasons: [],
  cancellation_reasons: [],
};

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Agreement page', () => {
  it('shows the terms, dimensions, free trial, renewal and related agreements, and reads AWS again on request', async () => {
    const calls = renderRoutes('/subscriptions/7/agreement', 'viewer', { '/subscriptions/:id/agreement': <AgreementPage /> }, (c) =>
      c.url.startsWith('/api/subscriptions/7/agreement/money')
        ? json(200, noMoney)
        : c.url.startsWith('/api/subscriptions/7/agreement')
          ? json(200, page)
          : json(404, {}),
    );
    expect((await screen.findByTestId('agreement-status')).textContent).toBe('ACTIVE');
    const dims = screen.getAllByTestId('dimension-row');
    expect(Array.from(dims[0].querySelectorAll('td')).map((td) => td.textContent)).toEqual(['users', 'Contract, configurable upfront', '12.50 USD', '20', '—']);
    expect(screen.getByTestId('agreement-trial').textContent).toContain('14 days');
    const renewal = screen.getByRole('region', { name: 'Renewal' });
    expect(renewal.textContent).toContain('expires — the buyer turned auto-renewal off');
    expect(renewal.textContent).toContain('30 days before the end');
    const related = screen.getByTestId('related-row');
    expect(within(related).getByRole('link', { name: '#5' }).getAttribute('href')).toBe('/subscriptions/5/agreement');
    expect(screen.getByRole('region', { name: 'What AWS said of the end' }).textContent).toContain('60 days before the end');
    // The agreement's money (invoices, charges, refunds and requests) is on the page too.
    expect(screen.getByRole('region', { name: 'Invoices, charges and requests' })).not.toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Read again from AWS' }));
    await waitFor(() => expect(calls.map((c) => c.url)).toContain('/api/subscriptions/7/agreement?refresh=true'));
  });

  it('says why there is no agreement to show', async () => {
    renderRoutes('/subscriptions/8/agreement', 'viewer', { '/subscriptions/:id/agreement': <AgreementPage /> }, () =>
      json(200, { ...page, subscription_id: 8, agreement_id: '', agreement: null, renewal_events: null, read_at: null, linked_agreements: [], error: 'no AWS agreement is linked to this subscription' }),
    );
    expect((await screen.findByTestId('agreement-error')).textContent).toContain('no AWS agreement is linked');
    expect(screen.queryByRole('button', { name: 'Read again from AWS' })).toBeNull();
  });

  it('names durations as people say them', () => {
    expect(durationText('P12M')).toBe('12 months');
    expect(durationText('P1Y')).toBe('1 year');
    expect(durationText('P30D')).toBe('30 days');
    expect(durationText('')).toBe('—');
  });
});

describe('Renewals page', () => {
  it('lists what ends when, and the window and auto-renewal filters go to the API', async () => {
    const calls = renderRoutes('/renewals', 'viewer', { '/renewals': <RenewalsPage /> }, () => json(200, { items: [page.renewal_events] }));
    const row = await screen.findByTestId('renewal-row');
    expect(within(row).getByRole('link', { name: 'Contoso' }).getAttribute('href')).toBe('/subscriptions/7/agreement');
    expect(row.textContent).toContain('buyer, 2026-11-30 00:00');
    expect(calls[0].url).toBe('/api/renewals?window=180');
    fireEvent.change(screen.getByLabelText('Ending within'), { target: { value: 'all' } });
    await waitFor(() => expect(calls.at(-1)!.url).toBe('/api/renewals?all=true'));
    fireEvent.click(screen.getByLabelText('Only auto-renewal off'));
    await waitFor(() => expect(calls.at(-1)!.url).toBe('/api/renewals?all=true&auto_renew_off=true'));
    expect(screen.getByTestId('where').textContent).toBe('/renewals?window=all&auto_renew=off');
  });

  it('counts the days left', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(daysLeft('2026-12-31T00:00:00Z', now)).toBe(30);
    expect(daysLeft('2026-11-30T00:00:00Z', now)).toBe(-1);
    expect(daysLeft(null, now)).toBeNull();
  });
});
