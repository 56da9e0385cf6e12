import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen, within } from '@testing-library/react';
import type { Role, SystemInfo } from '../../shared/api';
import { connectionState, SettingsPage } from './Settings';
import { json, renderRoutes } from '../../shared/test/testutil';

const system: SystemInfo = {
  version: 'v1.2.3',
  sandbox: true,
  database: 'sqlite',
  base_url: 'http://mg.example',
  aws: {
    configured: true,
    registration_url: 'http://mg.example/marketplace/aws/register',
    connection: { last_success_at: '2026-11-27T01:00:00Z', last_error_at: '2026-11-27T02:00:00Z', last_error: 'ThrottlingException: slow down', last_call: 'BatchMeterUsage' },
  },
  microsoft: { configured: false },
};

function renderAt(role: Role) {
  return renderRoutes('/settings', role, { '/settings': <SettingsPage /> }, (c) =>
    c.url === '/api/system' ? json(200, system) : json(200, { items: [], scopes: ['usage'] }),
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Settings', () => {
  it('an error newer than the last success is failing; no calls yet is said', () => {
    expect(connectionState(true, system.aws!.connection).text).toBe('failing');
    expect(connectionState(true, { ...system.aws!.connection!, last_error_at: '2026-11-27T00:00:00Z' }).text).toBe('working');
    expect(connectionState(true, undefined).text).toBe('no call yet');
    expect(connectionState(false, undefined).text).toBe('not configured');
  });

  it('shows each connection, the URLs to give the marketplaces, the sandbox pages and the version', async () => {
    renderAt('viewer');
    const [aws, ms] = await screen.findAllByTestId('connection');
    expect(within(aws).getByTestId('connection-state').textContent).toBe('failing');
    expect(within(aws).getByTestId('last-error').textContent).toContain('ThrottlingException: slow down');
    expect(within(aws).getByTestId('last-success').textContent).toContain('2026-11-27 01:00');
    expect(aws.textContent).toContain('http://mg.example/marketplace/aws/register');
    expect(within(ms).getByTestId('connection-state').textContent).toBe('not configured');
    const sandbox = screen.getByTestId('sandbox-controls');
    expect(within(sandbox).getByRole('link', { name: 'AWS buyer' }).getAttribute('href')).toBe('/sandbox/aws');
    expect(within(sandbox).getByRole('link', { name: 'Microsoft buyer' }).getAttribute('href')).toBe('/sandbox/azure');
    expect(screen.getByTestId('version').textContent).toBe('v1.2.3');
    expect(screen.queryByText('API keys')).toBeNull(); // admins only
  });

  it('customer admins see the version, not the seller’s connections', async () => {
    renderAt('customer_admin');
    expect((await screen.findByTestId('version')).textContent).toBe('v1.2.3');
    expect(screen.queryByTestId('connection')).toBeNull();
    expect(screen.queryByTestId('sandbox-controls')).toBeNull();
  });
});
