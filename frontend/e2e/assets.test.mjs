// Browser test: the portal's assets on the wire (issue 18). The real binary
// serves the build's precompressed files by Accept-Encoding; the sign-in
// page renders with at most 150 KB of JavaScript transferred (a byte
// budget, not a clock), and icons come one by one, only those drawn.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, startMarketgate } from './harness.mjs';

const BUDGET = 150_000; // bytes of JS on the wire before the first page renders

describe('portal assets on the wire', () => {
  let mg;
  let browser;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  /** Records every answer the page receives: url, type, encoding, bytes on the wire (body). */
  function record(page) {
    const seen = [];
    page.on('requestfinished', async (req) => {
      const res = await req.response();
      if (!res) return;
      const sizes = await req.sizes().catch(() => ({ responseBodySize: 0 }));
      seen.push({ url: req.url(), type: req.resourceType(), status: res.status(), encoding: res.headers()['content-encoding'] ?? '', bytes: sizes.responseBodySize });
    });
    return seen;
  }

  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  const sum = (xs) => xs.reduce((a, x) => a + Math.max(x.bytes, 0), 0);
  // The build compresses every file of 1 KB or more; smaller ones are sent as they are.
  const compressed = (x) => assert.ok(x.encoding === 'br' || (x.encoding === '' && x.bytes < 1024), `${x.url} came ${x.encoding || 'uncompressed'} (${x.bytes} bytes)`);

  it('renders the sign-in page with at most 150 KB of JavaScript, all of it compressed', async () => {
    const page = await browser.newPage();
    const seen = record(page);
    await page.goto(mg.base + '/login');
    await page.locator('#email').waitFor();
    await page.locator('button[type=submit]').waitFor();
    await page.waitForLoadState('networkidle');
    const js = seen.filter((x) => x.type === 'script');
    const css = seen.filter((x) => x.type === 'stylesheet');
    console.log(`sign-in page: ${js.length} scripts, ${kb(sum(js))} of JS and ${kb(sum(css))} of CSS on the wire`);
    assert.ok(js.length > 0, 'no script seen');
    for (const x of [...js, ...css]) {
      assert.equal(x.status, 200, x.url);
      compressed(x);
    }
    assert.ok(js.some((x) => x.encoding === 'br' && x.bytes > 10_000), 'the entry chunk did not come as brotli');
    assert.ok(sum(js) <= BUDGET, `${sum(js)} bytes of JS before the sign-in page rendered, budget ${BUDGET}`);
    // Icons: no chunk of every icon's paths; each drawn icon on its own.
    assert.ok(!js.some((x) => /\/paths-[^/]*\.js$|allPathsLoader/.test(x.url)), 'all icon paths were loaded: ' + js.map((x) => x.url).join(' '));
    await page.close();
  });

  it('keeps a first session compressed and loads only the icons it draws', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = record(page);
    await page.goto(mg.base + '/login');
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.getByTestId('current-user').waitFor();
    for (const path of ['/subscriptions', '/metering', '/customers', '/settings']) {
      await page.goto(mg.base + path);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
    }
    const js = seen.filter((x) => x.type === 'script');
    const css = seen.filter((x) => x.type === 'stylesheet');
    const icons = seen.filter((x) => /\/assets\/icons-[^/]+\/(16|20)\/[a-z0-9-]+\.json$/.test(x.url));
    const distinctIcons = new Set(icons.map((x) => x.url)).size;
    const api = seen.filter((x) => x.url.includes('/api/') && x.bytes >= 1024);
    console.log(`first session: ${kb(sum(js))} of JS (${js.length} files), ${kb(sum(css))} of CSS, ${distinctIcons} icons (${kb(sum(icons))})`);
    for (const x of [...js, ...css].filter((x) => x.status === 200)) compressed(x);
    // Blueprint has about 700 icons in two sizes: a session draws a few dozen.
    assert.ok(distinctIcons > 0 && distinctIcons < 140, `${distinctIcons} icon files fetched`);
    assert.ok(icons.every((x) => x.status === 200), 'an icon was not found: ' + icons.filter((x) => x.status !== 200).map((x) => x.url).join(' '));
    for (const x of api) assert.equal(x.encoding, 'gzip', `${x.url}: a JSON answer of ${x.bytes} bytes came uncompressed`);
    await page.close();
  });
});
