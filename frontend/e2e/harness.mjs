/* global window -- used in code that runs in the browser page (axe-core) */
// Shared by the browser tests: starts the real binary in sandbox mode on a
// free port and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const AXE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'axe-core', 'axe.min.js');

/**
 * Runs axe-core (injected into the page) over what the page shows now and
 * fails on any serious or critical violation, listing each with its help
 * text and the elements it found. Every violation (moderate and minor too)
 * is saved as artifacts/a11y-<name>.json. Also checks the page's outline:
 * exactly one <h1>, and a document title of its own.
 * Options: rules to disable ({ disable: ['rule-id'] }), a CSS selector to
 * leave out ({ exclude: ['.third-party'] }).
 */
export async function checkA11y(page, name, { disable = [], exclude = [] } = {}) {
  // Colours are checked as shown: a dialog still fading in (Blueprint's CSS transitions) would read as faint text.
  // (Endless ones, spinners and progress bars, are not waited for.)
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  // Evaluated rather than added as a <script>: the portal's Content-Security-Policy refuses inline scripts.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(readFileSync(AXE_SCRIPT, 'utf8'));
  const violations = await page.evaluate(
    async ({ disable, exclude }) => {
      const context = exclude.length ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
      const r = await window.axe.run(context, {
        resultTypes: ['violations'],
        rules: Object.fromEntries(disable.map((id) => [id, { enabled: false }])),
      });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`),
      }));
    },
    { disable, exclude },
  );
  writeFileSync(join(artifactsDir, `a11y-${name}.json`), JSON.stringify(violations, null, 2));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const problems = bad.map((v) => `[${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`);
  const outline = await page.evaluate(() => ({ h1: document.querySelectorAll('h1').length, title: document.title }));
  if (outline.h1 !== 1) problems.push(`the page has ${outline.h1} <h1> elements, not one`);
  if (!outline.title || outline.title === 'Marketgate' || outline.title === 'Marketgate portal') problems.push(`the document title "${outline.title}" does not name the page`);
  if (problems.length) throw new Error(`${name}: accessibility problems at ${page.url()}:\n  ${problems.join('\n  ')}`);
  return violations;
}
