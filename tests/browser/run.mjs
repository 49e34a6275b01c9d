// The public page (/aide/) in headless Chromium, against the real binary
// with demo data on a temporary SQLite file:
// - the vendored Leaflet is the npm package's (integrity-checked by `npm ci`),
// - the list shows the demo's sites, with and without JavaScript,
// - "near me" (a granted position) orders the list as the API's `near` does,
// - filtering by département works and the contacts match the API,
// - the map draws every site on the operator's tiles (a local tile server),
// - the embed snippet works from another origin,
// - no request leaves 127.0.0.1, no cookie, no CSP violation, no script error,
// - axe-core finds no serious or critical violation (phone and desktop),
// - screenshots at phone and desktop widths, and the page's transfer size,
// - the API docs page (/docs/) under a host name, every request off this
//   machine refused and recorded: rendered, titled, tags in the declared
//   order, no validator, nothing attempted.
//
//   ADOSEXO_BIN=target/debug/adosexo CHROMIUM=/usr/bin/chromium OUT=.ci/out node run.mjs

import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = resolve(root, process.env.ADOSEXO_BIN || 'target/debug/adosexo');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const out = resolve(root, process.env.OUT || '.ci/out');
mkdirSync(out, { recursive: true });
const LIMIT_BYTES = 300 * 1024;
const started = Date.now();
const step = (what) => console.log(`-- ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

// 1. The vendored Leaflet is byte for byte the locked npm package's.
step('vendored Leaflet against package-lock.json');
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const locked = lock.packages['node_modules/leaflet'];
const installed = JSON.parse(readFileSync(join(here, 'node_modules/leaflet/package.json'), 'utf8'));
assert.equal(installed.version, locked.version, 'node_modules/leaflet is the locked version (run npm ci)');
const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
for (const [vendored, published] of [
  ['leaflet.js', 'dist/leaflet.js'],
  ['leaflet.css', 'dist/leaflet.css'],
  ['LICENSE', 'LICENSE'],
]) {
  assert.equal(
    sha(join(root, 'api/assets/vendor/leaflet', vendored)),
    sha(join(here, 'node_modules/leaflet', published)),
    `api/assets/vendor/leaflet/${vendored} is leaflet@${locked.version}'s ${published}`,
  );
}
assert.ok(
  readFileSync(join(root, 'api/assets/vendor/leaflet/leaflet.js'), 'utf8').includes(`Leaflet ${locked.version},`),
);

// 2. Local servers: tiles (the operator's tile server) and a page of
// another origin that embeds the snippet. Both on 127.0.0.1.
const tile = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVQI12NoAAAAggCB3UNq9AAAAABJRU5ErkJggg==',
  'base64',
);
let tileRequests = 0;
const tiles = createServer((req, res) => {
  tileRequests += 1;
  res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
  res.end(tile);
});
await new Promise((ok) => tiles.listen(0, '127.0.0.1', ok));
const tilePort = tiles.address().port;
let appOrigin = '';
const embedder = createServer((req, res) => {
  // The snippet as the README documents it.
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="fr"><title>Site du programme</title><main><h1>Nos permanences</h1>
<iframe src="${appOrigin}/aide/embed/?departement=93" title="Ado Sexo : permanences, contacts et annuaire"
        width="100%" height="900" style="border:0" loading="lazy" allow="geolocation"></iframe></main>`);
});
await new Promise((ok) => embedder.listen(0, '127.0.0.1', ok));
const embedOrigin = `http://127.0.0.1:${embedder.address().port}`;

// 3. The server, with demo data.
const dir = mkdtempSync(join(tmpdir(), 'adosexo-browser-'));
const env = {
  ...process.env,
  DATABASE_URL: `sqlite://${dir}/page.db`,
  ADOSEXO_BIND: '127.0.0.1:0',
  RUST_LOG: 'info',
  ADOSEXO_MAP_TILES_URL: `http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png`,
  ADOSEXO_MAP_ATTRIBUTION: '© tuiles de test',
  ADOSEXO_EMBED_ORIGINS: embedOrigin,
  ADOSEXO_PUBLIC_RATE_LIMIT_PER_MINUTE: '100000',
};
step('demo data');
execFileSync(bin, ['demo'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
const port = await new Promise((ok, fail) => {
  const seen = (chunk) => {
    log += chunk;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    if (m) ok(Number(m[1]));
  };
  server.stdout.on('data', seen);
  server.stderr.on('data', seen);
  server.on('exit', (code) => fail(new Error(`the server exited (${code}):\n${log}`)));
  setTimeout(() => fail(new Error(`the server did not start:\n${log}`)), 30000);
});
const base = `http://127.0.0.1:${port}`;
appOrigin = base;
const api = async (path) => {
  const r = await fetch(base + path);
  assert.equal(r.status, 200, path);
  return r.json();
};

const DOCS_HOST = 'api.adosexo.test';
const browser = await chromium.launch({
  executablePath: browserPath,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The docs page under a real-looking host name (Swagger UI skips its
    // validator for localhost addresses, so only a name shows it is off).
    `--host-resolver-rules=MAP ${DOCS_HOST} 127.0.0.1`,
  ],
});
const failures = [];
const axeSource = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

// Every context: requests recorded (only 127.0.0.1 may be asked), console
// errors (CSP violations among them) and script errors collected.
async function context(options = {}) {
  const ctx = await browser.newContext({ locale: 'fr-FR', ...options });
  const requests = [];
  ctx.on('request', (r) => requests.push(r.url()));
  ctx.on('page', (page) => watch(page));
  return { ctx, requests };
}
const problems = [];
function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
}
function onlyLocal(requests) {
  for (const url of requests) {
    const u = new URL(url);
    if (u.protocol === 'data:') continue;
    assert.equal(u.hostname, '127.0.0.1', `a request left 127.0.0.1: ${url}`);
  }
}
async function audit(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations) {
    console.log(`   axe ${name}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help}`);
  }
  writeFileSync(join(out, `axe-${name}.json`), JSON.stringify(result.violations, null, 2));
  assert.equal(bad.length, 0, `axe (${name}): ${bad.map((v) => v.id).join(', ')}`);
}
async function check(name, body) {
  try {
    await body();
    console.log(`ok   ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    failures.push(name);
  }
}

const allSites = await api('/api/v1/public/sites?limit=500');
const names = allSites.features.map((f) => f.properties.name).sort();
assert.ok(names.length >= 20, 'the demo has its sites');
const meaux = { latitude: 48.9601, longitude: 2.8788 };

try {
  await check('phone: the list shows the demo sites; near me; keyboard; axe; screenshot', async () => {
    const { ctx, requests } = await context({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      geolocation: meaux, permissions: ['geolocation'],
    });
    const page = await ctx.newPage();
    const response = await page.goto(`${base}/aide/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    await page.screenshot({ path: join(out, 'aide-phone.png'), fullPage: false });
    const shown = (await page.locator('#sites-list li.site h4').allTextContents()).sort();
    assert.deepEqual(shown, names);
    // The emergency numbers are in view.
    await page.locator('.urgence a[href="tel:119"]').isVisible();
    assert.ok(await page.locator('.urgence a[href="tel:119"]').isVisible());
    assert.ok(await page.locator('.urgence a[href="tel:112"]').isVisible());
    // Keyboard: the first Tab reaches the skip link, which leads to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'contenu');
    // The map draws every site on the local tiles.
    await page.waitForSelector('#map .leaflet-tile-loaded', { timeout: 10000 });
    assert.equal(await page.locator('#map path.leaflet-interactive').count(), names.length);
    // Near me: the nearest is the API's nearest; the position never left.
    await page.getByRole('button', { name: 'Trouver la plus proche de moi' }).click();
    await page.waitForFunction(() => document.getElementById('near-status').textContent.includes('km'));
    const nearest = await api(`/api/v1/public/sites?near=${meaux.latitude},${meaux.longitude}&limit=3`);
    const firstThree = await page.locator('#sites-list li.site h4').allTextContents();
    assert.deepEqual(firstThree.slice(0, 3), nearest.features.map((f) => f.properties.name));
    assert.match(await page.locator('#near-status').textContent(), new RegExp(nearest.features[0].properties.name));
    // The nearest one's team is a tap away: its département's contact, as the API says.
    const nearestDep = nearest.features[0].properties.departement_code;
    const team = (await api(`/api/v1/public/contacts?departement=${nearestDep}`)).items[0];
    const call = page.locator('#sites-list li.site').first().locator('.call a.tel');
    assert.equal(await call.getAttribute('href'), `tel:${team.phone.replace(/\s/g, '')}`);
    assert.ok(await call.isVisible());
    await page.evaluate(() => document.getElementById('near-status').scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(out, 'aide-phone-near-me.png'), fullPage: false });
    // Three taps: near me, (allow), see it — the team's number is on screen.
    await page.locator('#near-status a').click();
    await page.waitForFunction(() => location.hash.startsWith('#site-'));
    const box = await call.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `the call link is on screen: ${JSON.stringify(box)}`);
    await page.screenshot({ path: join(out, 'aide-phone-nearest.png'), fullPage: false });
    for (const url of requests) assert.ok(!url.includes('48.96') && !url.includes('2.87'), `the position was sent: ${url}`);
    await page.screenshot({ path: join(out, 'aide-phone-full.png'), fullPage: true });
    await audit(page, 'phone');
    onlyLocal(requests);
    assert.deepEqual(await ctx.cookies(), [], 'no cookie');
    await ctx.close();
  });

  await check('phone: filtering by département; contacts as the API says', async () => {
    const { ctx, requests } = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/aide/`);
    await page.selectOption('#dep-permanences', '93');
    await Promise.all([page.waitForURL(/departement=93/), page.locator('#permanences button[type=submit]').click()]);
    const expected = (await api('/api/v1/public/sites?departement=93')).features.map((f) => f.properties.name).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual((await page.locator('#sites-list li.site h4').allTextContents()).sort(), expected);
    const deps = await page.locator('#sites-list li.site').evaluateAll((els) => els.map((e) => e.dataset.departement));
    assert.ok(deps.every((d) => d === '93'));
    const contact = (await api('/api/v1/public/contacts?departement=93')).items[0];
    const card = page.locator('#contacts li.contact');
    assert.equal(await card.count(), 1);
    assert.equal(await card.locator('a[href^="mailto:"]').textContent(), contact.email);
    assert.equal(await card.locator('a.tel').textContent(), contact.phone);
    assert.equal(await card.locator('a.tel').getAttribute('href'), `tel:${contact.phone.replace(/\s/g, '')}`);
    // The directory search, within the département.
    await page.fill('#q', 'avocat');
    await Promise.all([page.waitForURL(/q=avocat/), page.locator('#annuaire button[type=submit]').click()]);
    const found = await api('/api/v1/public/directory?departement=93&q=avocat');
    assert.deepEqual(
      await page.locator('#annuaire li.entry h3').allTextContents(),
      found.items.map((e) => e.name),
    );
    // Every contact without a département, the national one first.
    await page.goto(`${base}/aide/`);
    const all = await api('/api/v1/public/contacts');
    const emails = new Set(await page.locator('#contacts a[href^="mailto:"]').allTextContents());
    assert.deepEqual(emails, new Set(all.items.map((c) => c.email)));
    onlyLocal(requests);
    await ctx.close();
  });

  await check('without JavaScript: the list, the filter and the contacts still work', async () => {
    const { ctx, requests } = await context({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await page.goto(`${base}/aide/`);
    assert.equal(await page.locator('#sites-list li.site').count(), names.length);
    await page.selectOption('#dep-permanences', '77');
    await Promise.all([page.waitForURL(/departement=77/), page.locator('#permanences button[type=submit]').click()]);
    const expected = (await api('/api/v1/public/sites?departement=77')).features.map((f) => f.properties.name).sort();
    assert.deepEqual((await page.locator('#sites-list li.site h4').allTextContents()).sort(), expected);
    const team = (await api('/api/v1/public/contacts?departement=77')).items[0];
    assert.equal(await page.locator('#contacts a.tel').textContent(), team.phone);
    assert.equal(await page.locator('#near').isVisible(), false);
    assert.equal(await page.locator('#map-box').isVisible(), false);
    onlyLocal(requests);
    await ctx.close();
  });

  await check('desktop: screenshot, English, axe', async () => {
    const { ctx, requests } = await context({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(`${base}/aide/`);
    await page.waitForSelector('#map .leaflet-tile-loaded', { timeout: 10000 });
    await page.screenshot({ path: join(out, 'aide-desktop.png'), fullPage: false });
    await audit(page, 'desktop');
    await page.goto(`${base}/aide/?lang=en&departement=13`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.locator('h1').textContent(), /Where to find help/);
    await audit(page, 'desktop-en');
    onlyLocal(requests);
    await ctx.close();
  });

  await check('embedded by the programme\'s site (another origin), département pre-selected', async () => {
    const { ctx, requests } = await context({ viewport: { width: 1024, height: 1200 } });
    const page = await ctx.newPage();
    await page.goto(embedOrigin);
    const frame = page.frameLocator('iframe');
    await frame.locator('#sites-list li.site').first().waitFor({ timeout: 10000 });
    const expected = (await api('/api/v1/public/sites?departement=93')).features.length;
    assert.equal(await frame.locator('#sites-list li.site').count(), expected);
    assert.equal(await frame.locator('#dep-permanences').inputValue(), '93');
    await page.screenshot({ path: join(out, 'aide-embedded.png'), fullPage: false });
    onlyLocal(requests);
    await ctx.close();
  });

  await check('API documentation (/docs/): rendered, titled, partner tags first, no request leaves the machine', async () => {
    const { ctx } = await context({ viewport: { width: 1280, height: 900 } });
    // Every request that is not to this machine is refused and recorded.
    const attempted = [];
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      const { hostname } = new URL(url);
      if (hostname === '127.0.0.1' || hostname === DOCS_HOST) return route.continue();
      attempted.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await ctx.newPage();
    const docs = `http://${DOCS_HOST}:${port}/docs/`;
    await page.goto(docs, { waitUntil: 'networkidle' });
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 15000 });
    assert.equal(await page.title(), 'adosexo API');
    assert.match(await page.locator('.swagger-ui .info .title').innerText(), /adosexo API/);
    const tags = await page.locator('.opblock-tag-section h3.opblock-tag').evaluateAll((hs) => hs.map((h) => h.getAttribute('data-tag')));
    const declared = (await api('/api/v1/openapi.json')).tags.map((t) => t.name);
    assert.deepEqual(tags, declared, 'the groups in the declared order');
    assert.deepEqual(tags.slice(0, 4), ['auth', 'referrals', 'scheduling', 'public']);
    assert.ok((await page.locator('.opblock').count()) > 100, 'the operations are listed');
    assert.equal(await page.locator('.validator-badge, img[src*="validator"]').count(), 0, 'no validator badge');
    await page.screenshot({ path: join(out, 'docs.png'), fullPage: false });
    assert.deepEqual(attempted, [], 'requests that would have left the machine');
    await ctx.close();
  });

  await check('transfer size of the page (no cache, before map tiles)', async () => {
    const { ctx } = await context({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const urls = new Map();
    let total = 0;
    let tilesBytes = 0;
    const rows = [];
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => {
      const url = urls.get(e.requestId) || '';
      if (url.includes(`:${tilePort}/`)) {
        tilesBytes += e.encodedDataLength;
      } else {
        total += e.encodedDataLength;
        rows.push({ url: url.replace(base, ''), bytes: e.encodedDataLength });
      }
    });
    await page.goto(`${base}/aide/`, { waitUntil: 'networkidle' });
    const report = { page: '/aide/', total_bytes: total, tiles_bytes: tilesBytes, requests: rows };
    writeFileSync(join(out, 'aide-transfer.json'), JSON.stringify(report, null, 2));
    console.log(`   transfer: ${(total / 1024).toFixed(1)} KiB in ${rows.length} responses (+ ${tilesBytes} bytes of test tiles)`);
    for (const r of rows) console.log(`     ${String(r.bytes).padStart(7)}  ${r.url}`);
    assert.ok(total < LIMIT_BYTES, `${total} bytes`);
    await ctx.close();
  });

  await check('no CSP violation, no script error', async () => {
    assert.deepEqual(problems, []);
    assert.ok(tileRequests > 0, 'the map asked the configured tile server');
  });
} finally {
  await browser.close();
  server.kill('SIGTERM');
  tiles.close();
  embedder.close();
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(join(out, 'aide-server.log'), log);
}
// The request log names routes, never query strings or positions.
assert.ok(!/departement=|q=avocat|near=/.test(log), 'a query string reached the log');
if (failures.length) {
  console.log(`\n${failures.length} browser check(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log(`\nbrowser checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
