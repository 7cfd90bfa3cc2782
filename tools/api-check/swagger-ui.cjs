// The Swagger UI page (SPEC §9) in a real headless Chromium: it loads, lists every operation of
// the OpenAPI document, and calls the API from the browser with Basic credentials entered in
// its "Authorize" dialog (`GET /principal/v1/me` answers 200 with the caller).
//
//   node swagger-ui.cjs <base-url> <user:password>
//
// Needs playwright-core (installed by `make api-check` under target/api-check/node) and a
// Chromium (CHROMIUM, default /usr/bin/chromium).
'use strict';

const path = require('path');

const [base, credentials] = process.argv.slice(2);
const nodeDir = process.env.API_CHECK_NODE_DIR || path.resolve(__dirname, '../../target/api-check/node');
const { chromium } = require(path.join(nodeDir, 'node_modules', 'playwright-core'));

const DOCS = `${base}/nevisidm/api/docs`;
const DOCUMENT = `${base}/nevisidm/api/openapi.json`;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function fail(message) {
  console.error(`swagger-ui: FAILED: ${message}`);
  process.exitCode = 1;
}

(async () => {
  const document = await (await fetch(DOCUMENT)).json();
  const operations = [];
  for (const [p, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
      operations.push({ method, path: p, id: item[method].operationId });
    }
  }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const offHost = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) offHost.push(r.url());
    });

    await page.goto(DOCS, { waitUntil: 'networkidle' });
    await page.waitForSelector('.opblock', { timeout: 30000 });

    // Every operation of the document is listed (tags are expanded by default).
    const listed = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => ({
        method: (b.querySelector('.opblock-summary-method') || {}).textContent || '',
        path: (b.querySelector('.opblock-summary-path') || {}).getAttribute?.('data-path') || '',
      })),
    );
    const seen = new Set(listed.map((o) => `${o.method.trim().toLowerCase()} ${o.path}`));
    const missing = operations.filter((o) => !seen.has(`${o.method} ${o.path}`));
    if (missing.length) fail(`not listed: ${missing.map((o) => `${o.method.toUpperCase()} ${o.path}`).join(', ')}`);
    console.log(`swagger-ui: the page lists ${operations.length - missing.length}/${operations.length} operations`);

    // Basic credentials through the "Authorize" dialog.
    const [user, ...rest] = credentials.split(':');
    const password = rest.join(':');
    await page.click('button.authorize');
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input[type=text]').first().fill(user);
    await dialog.locator('input[type=password]').first().fill(password);
    await dialog.locator('button.modal-btn.auth.authorize').first().click();
    await dialog.locator('button.btn-done').first().click();

    // Try `GET /principal/v1/me` from the page.
    const me = page.locator('#operations-principal-getMe');
    await me.locator('.opblock-summary').first().click();
    await me.locator('button.try-out__btn').click();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/nevisidm/api/principal/v1/me'), { timeout: 30000 }),
      me.locator('button.execute').click(),
    ]);
    const sent = response.request().headers().authorization || '';
    const expected = `Basic ${Buffer.from(credentials).toString('base64')}`;
    if (sent !== expected) fail(`the page sent Authorization '${sent.slice(0, 12)}…', not the entered Basic credentials`);
    if (response.status() !== 200) fail(`GET /principal/v1/me from the page answered ${response.status()}`);
    await me.locator('.live-responses-table tr.response .response-col_status').first().waitFor({ timeout: 10000 });
    const shown = (await me.locator('.live-responses-table tr.response .response-col_status').first().textContent()).trim();
    if (!shown.startsWith('200')) fail(`the page shows status ${shown}`);
    const body = await response.json();
    console.log(`swagger-ui: "Try it out" of GET /principal/v1/me with Basic credentials answered ${response.status()} (${body.clientExtId}/${body.loginId})`);

    if (pageErrors.length) fail(`script errors on the page: ${pageErrors.join('; ')}`);
    if (offHost.length) fail(`the page fetched from another host: ${offHost.join(', ')}`);
  } finally {
    await browser.close();
  }
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
