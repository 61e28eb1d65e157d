// Browser journeys through the portal and the console: headless Debian Chromium driven by
// playwright-core, axe-core run on every page (no serious or critical violations allowed),
// screenshots of each final page. Started by the Rust test `browser.rs` on a fresh server with
// a real SMTP sink; usage: node journeys.js <access|marketing|extension|forecast>.
//
// Environment: BASE_URL, ADMIN_TOKEN, MAILDIR, READ_MAILDIR (the script that decodes it),
// SCREENSHOT_DIR, CHROMIUM, SUBJECT_EMAIL, and per journey EXPECTED (JSON).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const journey = process.argv[2];
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env('BASE_URL');
const SHOTS = env('SCREENSHOT_DIR');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const checked = [];

function log(...args) { console.log(`[${journey}]`, ...args); }

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    throw new Error(`axe: ${name} (${page.url()}) has serious/critical violations: ${JSON.stringify(bad, null, 1)}`);
  }
  checked.push(`${name}: ${result.length} minor/moderate`);
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log('screenshot', file);
}

function mails() {
  const out = execFileSync('python3', [env('READ_MAILDIR'), env('MAILDIR')], { encoding: 'utf8' });
  return JSON.parse(out);
}

async function waitMail(pred, what) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const found = mails().filter(pred);
    if (found.length > 0) return found[found.length - 1];
    if (Date.now() > deadline) throw new Error(`no mail: ${what}; got ${JSON.stringify(mails().map((m) => m.subject))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function links(mail) {
  return mail.body.split(/[\s<>"]+/).filter((w) => w.startsWith('http://') || w.startsWith('https://'))
    .map((w) => w.replace(/[.,)]+$/, ''));
}

async function api(method, p, body) {
  const r = await fetch(BASE + p, {
    method,
    headers: { authorization: `Bearer ${env('ADMIN_TOKEN')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return JSON.parse(text);
}

function expect(cond, message) {
  if (!cond) throw new Error(`expectation failed: ${message}`);
}

async function adminLogin(page) {
  await page.goto(`${BASE}/admin`);
  expect(page.url().endsWith('/admin/login'), `redirected to login, at ${page.url()}`);
  await axe(page, 'admin-login');
  await page.fill('#token', env('ADMIN_TOKEN'));
  await Promise.all([page.waitForURL(`${BASE}/admin`), page.click('main button[type=submit]')]);
  await axe(page, 'admin-queue');
}

async function act(page, action) {
  const form = page.locator(`form:has(input[name=action][value=${action}])`);
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  const error = await page.locator('main .error').count();
  if (error > 0) throw new Error(`${action}: ${await page.locator('main .error').innerText()}`);
}

async function stateOf(page) {
  return page.locator('main .state').first().getAttribute('data-state');
}

const journeys = {
  // (1) A person requests access in nb, confirms with the emailed link and code, an admin
  // completes it in the console, and the person downloads the report with their data.
  async access(ctx) {
    const email = env('SUBJECT_EMAIL');
    const page = await ctx.newPage();
    await page.goto(`${BASE}/?lang=nb`);
    expect((await page.getAttribute('html', 'lang')) === 'nb', 'the page is in bokmål');
    await axe(page, 'portal-home');
    await page.goto(`${BASE}/notice`);
    await axe(page, 'portal-notice');
    await page.goto(`${BASE}/subprocessors`);
    await axe(page, 'portal-subprocessors');
    await page.goto(`${BASE}/`);
    await Promise.all([page.waitForURL(`${BASE}/rights`), page.click('main a[href="/rights"]')]);
    await axe(page, 'portal-rights');
    // Keyboard: the first checkbox can be reached and ticked without a mouse.
    await page.focus('#right_access');
    await page.keyboard.press('Space');
    expect(await page.isChecked('#right_access'), 'space ticks the focused checkbox');
    await page.fill('#email', email);
    await Promise.all([page.waitForURL(/\/rights\?sent=1$/), page.click('main form button[type=submit]')]);
    expect((await page.innerText('main')).includes('Sjekk e-posten din'), 'asked to check the mail');
    await axe(page, 'portal-rights-sent');
    const mail = await waitMail((m) => m.to === email && m.subject.includes('Bekreft'), 'verification');
    const link = links(mail).find((l) => l.includes('/request-verifications/'));
    const code = mail.body.match(/Kode: (\d{6})/)[1];
    await page.goto(link);
    expect((await page.innerText('h1')).includes('Bekreft'), 'the confirmation page');
    await axe(page, 'portal-confirm');
    await page.fill('#code', code);
    await Promise.all([page.waitForURL(`${BASE}/status`), page.click('main form button[type=submit]')]);
    expect((await stateOf(page)) === 'in_progress', 'in progress after the code');
    const reference = (await page.innerText('main h2')).split(' ').pop();
    await axe(page, 'portal-status');
    await shot(page, 'person-confirmed');

    const admin = await ctx.newPage();
    await adminLogin(admin);
    await Promise.all([admin.waitForLoadState('load'), admin.click(`text=${reference}`)]);
    await axe(admin, 'admin-request');
    // Completing fulfils the access right: the report goes behind a download link.
    await act(admin, 'complete');
    expect((await stateOf(admin)) === 'completed', `completed, got ${await stateOf(admin)}`);
    await axe(admin, 'admin-request-completed');
    await shot(admin, 'admin-completed');

    await page.reload();
    expect((await stateOf(page)) === 'completed', 'the person sees it completed');
    if (process.env.EXPECT_DOWNLOAD === '1') {
      const done = await waitMail((m) => m.to === email && m.body.includes('/v1/public/downloads/'), 'report link');
      const url = links(done).find((l) => l.includes('/v1/public/downloads/'));
      await page.goto(url);
      const text = await page.innerText('body');
      expect(text.includes(email), 'the report contains the person\'s data');
      await axe(page, 'access-report');
      await shot(page, 'report');
    } else {
      log('the download step is not run (EXPECT_DOWNLOAD is not 1)');
      await shot(page, 'person-completed');
    }
  },

  // (2) A person withdraws marketing consent in the portal; the decision API answers denied.
  async marketing(ctx) {
    const email = env('SUBJECT_EMAIL');
    const decide = () => api('POST', '/v1/decisions', {
      identifier: { kind: 'email', value: email }, purpose: 'marketing.send', channel: 'email',
      message_class: 'newsletter',
    });
    const before = await decide();
    expect(before.allowed === true, `allowed before: ${JSON.stringify(before)}`);
    const page = await ctx.newPage();
    await page.goto(`${BASE}/preferences?lang=en`);
    await axe(page, 'portal-preferences-login');
    await page.fill('#email', email);
    await Promise.all([page.waitForURL(/\/preferences\?sent=1$/), page.click('main form button[type=submit]')]);
    await axe(page, 'portal-preferences-sent');
    const mail = await waitMail((m) => m.to === email && m.subject.includes('Link to your consents'), 'login link');
    await page.goto(links(mail).find((l) => l.includes('/preferences/login/')));
    await axe(page, 'portal-preferences-continue');
    await Promise.all([page.waitForURL(`${BASE}/preferences`), page.click('main form button[type=submit]')]);
    await axe(page, 'portal-preferences');
    const state = page.locator('.state[data-scope=marketing_email]');
    expect((await state.getAttribute('data-active')) === 'true', 'the consent is shown as given');
    await Promise.all([
      page.waitForURL(/\/preferences\?done=1$/),
      page.click('section:has(#scope-marketing_email) button.withdraw'),
    ]);
    expect((await state.getAttribute('data-active')) === 'false', 'shown as withdrawn');
    await axe(page, 'portal-preferences-saved');
    const after = await decide();
    expect(after.allowed === false, `denied right after: ${JSON.stringify(after)}`);
    log('decision after withdrawal:', after.reason);
    await shot(page, 'withdrawn');
  },

  // (3) An admin extends a request with a reason; the person receives the extension mail.
  async extension(ctx) {
    const email = env('SUBJECT_EMAIL');
    const reason = 'Vi har mottatt svært mange henvendelser og trenger mer tid.';
    const page = await ctx.newPage();
    await adminLogin(page);
    const row = page.locator('table.queue tbody tr').first();
    await Promise.all([page.waitForLoadState('load'), row.locator('a').click()]);
    await axe(page, 'admin-request');
    await page.selectOption('#extend-months', '1');
    await page.fill('#extend-reason', reason);
    await act(page, 'extend');
    expect((await stateOf(page)) === 'extended', `extended, got ${await stateOf(page)}`);
    expect((await page.innerText('main')).includes(reason), 'the reason is on the case');
    await axe(page, 'admin-request-extended');
    const mail = await waitMail((m) => m.to === email && m.subject.includes('mer tid'), 'extension letter');
    expect(mail.body.includes(reason), 'the letter carries the reason');
    log('extension letter:', mail.subject);
    await shot(page, 'extended');
  },

  // (4) The forecast chart has one bar per month (24) with the seeded counts; the other
  // console pages pass the accessibility check too.
  async forecast(ctx) {
    const expected = JSON.parse(env('EXPECTED'));
    const page = await ctx.newPage();
    await adminLogin(page);
    await page.goto(`${BASE}/admin/retention`);
    await axe(page, 'admin-retention');
    const bars = page.locator('svg#forecast rect.bar');
    const n = await bars.count();
    expect(n === 24, `24 bars, got ${n}`);
    const values = [];
    for (let i = 0; i < n; i += 1) values.push(Number(await bars.nth(i).getAttribute('data-value')));
    const nonzero = {};
    values.forEach((v, i) => { if (v > 0) nonzero[i] = v; });
    expect(JSON.stringify(nonzero) === JSON.stringify(expected.nonzero),
      `bars ${JSON.stringify(nonzero)}, expected ${JSON.stringify(expected.nonzero)}`);
    const box = await bars.nth(Number(Object.keys(expected.nonzero)[0])).boundingBox();
    expect(box && box.height > 0, 'a seeded bar is drawn with a height');
    await shot(page, 'retention');
    for (const p of ['/admin/holds', '/admin/audit', '/admin/outbox', '/admin/consents',
      `/admin/subjects?kind=email&value=${encodeURIComponent(env('SUBJECT_EMAIL'))}`]) {
      await page.goto(BASE + p);
      await axe(page, `admin${p.split('?')[0].replace(/\//g, '-')}`);
    }
    expect((await page.innerText('main')).includes(env('SUBJECT_EMAIL')), 'the search finds the subject');
    await page.goto(`${BASE}/admin/audit`);
    expect((await page.getAttribute('#chain-status', 'data-ok')) === 'true', 'the chain is intact');
    await page.goto(`${BASE}/admin/retention?lang=en`);
    await axe(page, 'admin-retention-en');
  },
};

(async () => {
  if (!journeys[journey]) throw new Error(`unknown journey ${journey}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vern-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // No request may leave the server under test (no third-party assets).
  const outside = [];
  ctx.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) outside.push(r.url()); });
  try {
    await journeys[journey](ctx);
    expect(outside.length === 0, `requests outside vern: ${outside.join(', ')}`);
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log('axe checked', checked.length, 'pages:', checked.join('; '));
  console.log(`${journey}: 1 passed, 0 failed`);
})().catch((e) => {
  console.error(`[${journey}] FAILED:`, e && e.stack ? e.stack : e);
  process.exit(1);
});
