// Shared by the browser tests: starts the real binary in sandbox mode on a
// free port and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BIN = resolve(process.env.MARKETGATE_BIN || '../bin/marketgate');
export const EMAIL = 'admin@example.com';
export const PASSWORD = 'e2e-admin-password-42';

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

export async function waitHealthy(url, proc) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error('marketgate exited with ' + proc.exitCode);
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('marketgate did not become healthy');
}

/**
 * Starts `marketgate serve --sandbox` with a fresh data directory and a seller
 * admin (EMAIL, PASSWORD); extraArgs are more serve flags. Returns { base, log(), stop() }.
 */
export async function startMarketgate(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'marketgate-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const proc = spawn(BIN, ['serve', '--sandbox', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, ...extraArgs], {
    env: { ...process.env, MARKETGATE_ADMIN_EMAIL: EMAIL, MARKETGATE_ADMIN_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const stop = () => {
    proc.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(base, proc);
  } catch (err) {
    stop();
    throw err;
  }
  return { base, log: () => log, stop };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/** The test artifacts' folder: MARKETGATE_E2E_ARTIFACTS, or frontend/e2e/artifacts (git-ignored). */
export const artifactsDir = process.env.MARKETGATE_E2E_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
mkdirSync(artifactsDir, { recursive: true });

/** Saves a full-page screenshot into the artifacts folder and returns its path. */
export async function screenshot(page, name) {
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true }).catch(() => {});
  return path;
}

/** Signs in through the portal's form and waits for the signed-in shell. */
export async function signInAt(page, base, email, password) {
  await page.goto(base + '/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.getByTestId('current-user').waitFor();
}
