import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import type { SetupReport } from '../../shared/api';
import { json, renderRoutes } from '../../shared/test/testutil';
import { SetupPage } from './Setup';
import { SetupChecklist } from './SetupChecklist';

const report = (failing: boolean): SetupReport => ({
  ok: !failing,
  checked_at: '2026-12-03T10:00:00Z',
  azure_secret_expires_at: '2027-06-01T00:00:00Z',
  checks: [
    { id: 'aws.credentials', marketplace: 'aws', title: 'AWS credentials', status: 'ok', message: 'Credentials of account 111122223333', duration_ms: 3 },
    {
      id: 'aws.queue.subscribed',
      marketplace: 'aws',
      title: 'Queue subscribed',
      subject: 'https://sqs.us-east-1.amazonaws.com/111122223333/q',
      status: failing ? 'fail' : 'ok',
      message: failing ? 'The queue has no access policy.' : 'The queue policy lets AWS Marketplace send.',
      fix: 'Paste this access policy on the queue.',
      values: [{ label: 'Queue access policy', value: '{\n  "Version": "2012-10-17"\n}' }],
      duration_ms: 5,
    },
    { id: 'azure.configured', marketplace: 'azure', title: 'Microsoft configured', status: 'skip', message: 'Not configured.', duration_ms: 0 },
  ],
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  localStorage.clear();
});

describe('Setup', () => {
  it('shows each check with its status, the fix of a failed one and a copy button for what to paste', async () => {
    renderRoutes('/setup', 'admin', { '/setup': <SetupPage /> }, () => json(200, report(true)));
    const failed = await screen.findByTestId('check-aws.queue.subscribed');
    expect(failed.dataset.status).toBe('fail');
    expect(within(failed).getByText('How to fix it')).toBeTruthy();
    expect(within(failed).getByText('Paste this access policy on the queue.')).toBeTruthy();
    expect(within(failed).getByRole('button', { name: /copy queue access policy/i })).toBeTruthy();
    expect(within(screen.getByTestId('check-aws.credentials')).queryByText('How to fix it')).toBeNull();
    expect(within(screen.getByTestId('setup-aws')).getByText('1 to fix')).toBeTruthy();
    expect(within(screen.getByTestId('setup-azure')).getByText('not configured')).toBeTruthy();
  });

  it('keeps the checklist until every check passes; only then can it be dismissed', async () => {
    renderRoutes('/', 'admin', { '/': <SetupChecklist /> }, () => json(200, report(true)));
    const aws = await screen.findByTestId('checklist-aws');
    expect(aws.textContent).toContain('1 of 2 steps done');
    expect(within(aws).getByText('Queue subscribed')).toBeTruthy();
    expect(screen.queryByTestId('dismiss-aws')).toBeNull();
    expect(screen.queryByTestId('checklist-azure')).toBeNull(); // not configured: nothing to do
  });

  it('hides the checklist once dismissed when done', async () => {
    renderRoutes('/', 'admin', { '/': <SetupChecklist /> }, () => json(200, report(false)));
    fireEvent.click(await screen.findByTestId('dismiss-aws'));
    expect(screen.queryByTestId('setup-checklist')).toBeNull();
    expect(localStorage.getItem('mg-setup-dismissed-aws')).toBe('1');
  });
});
