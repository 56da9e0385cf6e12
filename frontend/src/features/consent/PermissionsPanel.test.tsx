import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import i18n from '../../shared/i18n';
import type { ConsentPermissions } from '../../shared/api';
import { json, refusal, renderRoutes } from '../../shared/test/testutil';
import { navigate, PermissionsPanel } from './PermissionsPanel';

const base: ConsentPermissions = {
  subscription_id: 7,
  marketplace: 'azure',
  tenant_id: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
  can_grant: true,
  blocked: '',
  permissions: [
    { scope: 'https://graph.microsoft.com/Directory.Read.All', resource: 'Microsoft Graph', name: 'Directory.Read.All', reason: 'To list your groups when you assign seats.' },
    { scope: 'api://acme/.default', resource: 'api://acme', name: '.default', reason: 'To call our reporting API.' },
  ],
  consent: {
    status: 'not_asked',
    requested: ['https://graph.microsoft.com/Directory.Read.All', 'api://acme/.default'],
    granted: [],
    last_decision: '',
    decided_at: null,
    decided_by: '',
    granted_at: null,
    error: '',
    error_description: '',
  },
};

function show(answer: ConsentPermissions, url = '/subscriptions/7', grant?: (body: string) => Response) {
  return renderRoutes(url, 'customer_admin', { '/subscriptions/:id': <PermissionsPanel subscriptionId={7} /> }, (c) => {
    if (c.method === 'GET' && c.url === '/api/my/subscriptions/7/permissions') return json(200, answer);
    if (c.method === 'POST' && c.url === '/api/my/subscriptions/7/permissions/grant' && grant) return grant(c.body);
    return json(404, { error: { code: 'not_found', message: 'unexpected', request_id: 'r0' } });
  });
}

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

describe('PermissionsPanel', () => {
  it('lists what is asked and why, and sends an administrator to Entra', async () => {
    const go = vi.spyOn(navigate, 'to').mockImplementation(() => {});
    const calls = show(base, '/subscriptions/7', () => json(200, { redirect_url: 'https://login.example/t/v2.0/adminconsent?state=s' }));
    const rows = await screen.findAllByTestId('permission-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText('Directory.Read.All')).toBeTruthy();
    expect(within(rows[0]).getByText('To list your groups when you assign seats.')).toBeTruthy();
    expect(screen.getByTestId('consent-status').textContent).toContain('Not granted yet');
    fireEvent.click(screen.getByRole('button', { name: 'Grant permissions' }));
    await waitFor(() => expect(go).toHaveBeenCalledWith('https://login.example/t/v2.0/adminconsent?state=s'));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('shows a grant: when and by whom, and the outcome after returning from Entra', async () => {
    const granted: ConsentPermissions = {
      ...base,
      consent: { ...base.consent, status: 'granted', granted: base.consent.requested, last_decision: 'granted', decided_by: 'it@contoso.example', granted_at: '2026-12-03T10:00:00Z', decided_at: '2026-12-03T10:00:00Z' },
    };
    show(granted, '/subscriptions/7?consent=granted');
    expect((await screen.findByTestId('consent-outcome')).textContent).toContain('The permissions were granted');
    expect(screen.getByTestId('consent-status').textContent).toMatch(/Granted on .*2026.* by it@contoso\.example/);
    expect(screen.getByRole('button', { name: 'Grant permissions again' })).toBeTruthy();
  });

  it('shows a decline with Microsoft’s reason', async () => {
    const declined: ConsentPermissions = {
      ...base,
      consent: { ...base.consent, status: 'declined', last_decision: 'declined', decided_by: 'it@contoso.example', decided_at: '2026-12-03T10:00:00Z', error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.' },
    };
    show(declined, '/subscriptions/7?consent=declined');
    expect((await screen.findByTestId('consent-outcome')).textContent).toContain('The permissions were not granted');
    expect(screen.getByTestId('consent-status').textContent).toContain('Declined');
    expect(screen.getByTestId('consent-status').textContent).toContain('AADSTS65004');
  });

  it('says why the button is not there, and what the server refused', async () => {
    show({ ...base, can_grant: false, blocked: 'not_active' });
    expect(await screen.findByText('You can grant permissions once the subscription is active.')).toBeTruthy();
    expect(screen.queryByTestId('grant-permissions')).toBeNull();
  });

  it('shows the server’s refusal of the grant', async () => {
    const go = vi.spyOn(navigate, 'to').mockImplementation(() => {});
    show(base, '/subscriptions/7', () => refusal(409, 'consent_unavailable', 'permissions are asked after the subscription is activated', 'r1'));
    fireEvent.click(await screen.findByTestId('grant-permissions'));
    expect((await screen.findByRole('alert')).textContent).toContain('permissions are asked after the subscription is activated');
    expect(go).not.toHaveBeenCalled();
  });

  it('speaks Japanese', async () => {
    await i18n.changeLanguage('ja');
    show(base);
    expect(await screen.findByRole('button', { name: 'アクセス許可を付与する' })).toBeTruthy();
    expect(screen.getByTestId('consent-status').textContent).toContain('未付与');
  });
});
