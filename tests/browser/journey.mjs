// End-to-end journey through the demo client portal in headless Chromium.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/journey.mjs
//
// It reads emails from the demo's outbox folder (.eml files) the way a person reads
// their inbox: invite link -> "Send verification email" -> code (a wrong one first)
// -> portal home on a phone; then the magic link on a desktop; then sign-out.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0) or
// "N passed, 1 failed" (exit 1) after the first failing check.
//
// Environment:
//   PORTAL_URL  base address of a running portal-demo (default http://localhost:18080)
//   OUTBOX      the demo's outbox folder (required)
//   CHROMIUM    browser executable (default /usr/bin/chromium)
//   ARTIFACTS   screenshot folder (default artifacts/ next to this file)

import { readdir, readFile, stat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const PORTAL_URL = (process.env.PORTAL_URL || 'http://localhost:18080').replace(/\/+$/, '');
const OUTBOX = process.env.OUTBOX;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.ARTIFACTS || path.join(here, 'artifacts');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const ACTION_TIMEOUT_MS = 15_000; // any single browser action or navigation
const STEP_TIMEOUT_MS = 45_000; // one lettered step, all its actions together
const MAIL_TIMEOUT_MS = 15_000; // waiting for an email to land in the outbox
const TOTAL_TIMEOUT_MS = 240_000; // the whole run, as a last resort

const TOKEN = '[A-Za-z0-9_-]{43}';
const INVITE_PATH_RE = new RegExp(`/i/(${TOKEN})(?![A-Za-z0-9_-])`);
const MAGIC_PATH_RE = new RegExp(`/m/(${TOKEN})(?![A-Za-z0-9_-])`);
const TABS = ['Your Tasks', 'Our Progress', 'Documents', 'Approvals'];

// ----- reporting ---------------------------------------------------------------------

let passed = 0;
let failed = 0;
let currentStep = '';
let browser;

class CheckFailed extends Error {}

/** Records one passing check, or throws with `message` (and `detail`) if `ok` is false. */
function check(ok, message, detail) {
  if (!ok) {
    const extra = detail === undefined ? '' : `\n      ${typeof detail === 'string' ? detail : JSON.stringify(detail, null, 2)}`;
    throw new CheckFailed(`${message}${extra}`);
  }
  passed += 1;
  console.log(`  ok ${passed} - ${message}`);
}

async function finish(code) {
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), sleep(5_000)]);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

async function fail(err) {
  failed = 1;
  const what = err instanceof CheckFailed ? err.message : (err && err.stack) || String(err);
  console.log(`\nFAILED in step ${currentStep}:\n  ${what}\n`);
  await finish(1);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs one lettered step with a time limit. */
async function step(name, fn) {
  currentStep = name;
  console.log(`\n# ${name}`);
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`step did not finish within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

// ----- reading the outbox (.eml files) ---------------------------------------------

/** Splits a raw message or MIME part into its unfolded headers and its body. */
function splitMessage(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

/** `text/plain; charset="utf-8"` -> { type: 'text/plain', params: { charset: 'utf-8' } } */
function parseContentType(value) {
  const [type, ...rest] = (value || 'text/plain; charset=us-ascii').split(';');
  const params = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    let v = p.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, i).trim().toLowerCase()] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

function decodeCharset(bytes, charset) {
  const cs = (charset || 'utf-8').toLowerCase();
  try {
    return new TextDecoder(cs === 'us-ascii' ? 'utf-8' : cs).decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

/** Quoted-printable to bytes: soft line breaks ("=" at a line end) join lines. */
function quotedPrintableBytes(text) {
  const joined = text.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  const out = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      out.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(c, 'utf-8'));
    }
  }
  return Uint8Array.from(out);
}

function decodeBody(body, encoding, charset) {
  switch ((encoding || '7bit').trim().toLowerCase()) {
    case 'quoted-printable':
      return decodeCharset(quotedPrintableBytes(body), charset);
    case 'base64':
      return decodeCharset(Buffer.from(body.replace(/\s+/g, ''), 'base64'), charset);
    default:
      return decodeCharset(Buffer.from(body, 'latin1'), charset);
  }
}

/** Decodes RFC 2047 encoded words in a header (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`). */
function decodeHeader(value) {
  return (value || '')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, enc, text) => {
      const bytes = enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : quotedPrintableBytes(text.replace(/_/g, ' '));
      return decodeCharset(bytes, charset);
    });
}

/** Collects the leaf parts of a (possibly multipart) MIME entity. */
function leafParts(raw, out = []) {
  const { headers, body } = splitMessage(raw);
  const ct = parseContentType(headers['content-type']);
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) throw new Error('multipart without a boundary');
    const delimiter = new RegExp(`(?:^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?:\\r?\\n|$)`);
    const pieces = body.split(delimiter);
    // split() with two groups yields: preamble, marker, part, marker, part, ..., "--", epilogue
    for (let i = 2; i < pieces.length; i += 2) {
      if (pieces[i - 1] === '--') break; // closing delimiter: the rest is the epilogue
      if (pieces[i] !== undefined) leafParts(pieces[i], out);
    }
  } else {
    out.push({
      type: ct.type,
      text: decodeBody(body, headers['content-transfer-encoding'], ct.params.charset),
    });
  }
  return out;
}

/** Parses one .eml file. */
async function readEmail(file) {
  const raw = (await readFile(file)).toString('latin1');
  const { headers } = splitMessage(raw);
  const parts = leafParts(raw);
  const text = parts.find((p) => p.type === 'text/plain')?.text ?? '';
  const htmlRaw = parts.find((p) => p.type === 'text/html')?.text ?? '';
  const html = htmlRaw.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/gi, '/');
  return {
    file,
    mtimeMs: (await stat(file)).mtimeMs,
    subject: decodeHeader(headers.subject),
    to: decodeHeader(headers.to),
    contentType: parseContentType(headers['content-type']).type,
    text,
    html,
  };
}

/** All emails in the outbox, oldest first. */
async function readOutbox() {
  let names;
  try {
    names = await readdir(OUTBOX);
  } catch (e) {
    throw new CheckFailed(`cannot read the outbox folder ${OUTBOX}: ${e.message}`);
  }
  const emails = [];
  for (const name of names.filter((n) => n.endsWith('.eml'))) {
    emails.push(await readEmail(path.join(OUTBOX, name)));
  }
  return emails.sort((a, b) => a.mtimeMs - b.mtimeMs || a.file.localeCompare(b.file));
}

/** Waits until an email not in `seen` and matching `pred` lands; returns the newest one. */
async function waitForEmail(seen, pred, what) {
  const deadline = Date.now() + MAIL_TIMEOUT_MS;
  for (;;) {
    const fresh = (await readOutbox()).filter((e) => !seen.has(e.file) && pred(e));
    if (fresh.length > 0) return fresh[fresh.length - 1];
    if (Date.now() > deadline) {
      throw new CheckFailed(`no new ${what} email arrived in ${OUTBOX} within ${MAIL_TIMEOUT_MS / 1000} s`);
    }
    await sleep(150);
  }
}

async function seenFiles() {
  return new Set((await readOutbox()).map((e) => e.file));
}

/** The full link (origin + path) for a path pattern, from one body, or null. */
function findLink(body, pathRe) {
  const re = new RegExp(`https?://[^\\s"'<>/]+${pathRe.source}`);
  const m = re.exec(body);
  return m ? m[0] : null;
}

/** Checks that both bodies of `email` carry the same link, and returns it. */
function linkFrom(email, pathRe, what) {
  const inText = findLink(email.text, pathRe);
  const inHtml = findLink(email.html, pathRe);
  check(inText !== null, `the ${what} email's plain-text part has the ${what} link`, email.text.slice(0, 600));
  check(inHtml !== null, `the ${what} email's HTML part has the ${what} link`, email.html.slice(0, 600));
  check(inText === inHtml, `the ${what} link decodes the same from the text and HTML parts (quoted-printable soft breaks joined)`, { inText, inHtml });
  const url = new URL(inText);
  check(url.origin === new URL(PORTAL_URL).origin, `the ${what} link points at ${PORTAL_URL}`, inText);
  return url;
}

/** The 6-digit code in a verification email body (links removed first). */
function codeIn(body) {
  const m = /(?<![\w-])(\d{6})(?![\w-])/.exec(body.replace(/https?:\/\/\S+/g, ''));
  return m ? m[1] : null;
}

// ----- browser helpers ---------------------------------------------------------------

/** Per-context bookkeeping of problems a person would notice (broken assets, CSP errors). */
function watch(context, label) {
  const problems = [];
  context.on('page', (page) => attach(page));
  const attach = (page) => {
    page.on('console', (msg) => {
      // A 4xx main document is expected on error pages and Chromium logs it; anything else is not.
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|404|422)/.test(msg.text())) {
        problems.push(`${label}: console error on ${page.url()}: ${msg.text()}`);
      }
    });
    page.on('pageerror', (err) => problems.push(`${label}: script error on ${page.url()}: ${err.message}`));
    page.on('requestfailed', (req) => {
      if (req.resourceType() !== 'document') problems.push(`${label}: ${req.resourceType()} ${req.url()} failed: ${req.failure()?.errorText}`);
    });
    page.on('response', (res) => {
      if (res.request().resourceType() !== 'document' && res.status() >= 400) {
        problems.push(`${label}: ${res.request().resourceType()} ${res.url()} answered ${res.status()}`);
      }
    });
  };
  return { problems, attach };
}

async function newContext(options, label) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const watcher = watch(context, label);
  const page = await context.newPage();
  return { context, page, watcher };
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`     screenshot ${path.relative(process.cwd(), file) || file}`);
}

const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

async function heading(page) {
  return norm(await page.locator('h1').first().textContent());
}

function securityHeaders(response, what) {
  const h = response.headers();
  check(h['referrer-policy'] === 'no-referrer', `${what} is sent with Referrer-Policy: no-referrer`, h['referrer-policy']);
  const csp = h['content-security-policy'] || '';
  check(/default-src 'none'/.test(csp) && /frame-ancestors/.test(csp), `${what} is sent with a Content-Security-Policy (default-src 'none', frame-ancestors)`, csp);
  check(/no-store/.test(h['cache-control'] || ''), `${what} is not cacheable (Cache-Control: no-store)`, h['cache-control']);
}

function pathOnly(url) {
  const u = new URL(url);
  return { path: u.pathname, query: u.search, hasToken: new RegExp(TOKEN).test(u.pathname + u.search + u.hash) };
}

/** Runs axe-core on the current page and fails on serious or critical violations. */
async function axeCheck(page, what) {
  await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      count: v.nodes.length,
    }));
  });
  const bad = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of results.filter((r) => !bad.includes(r))) {
    console.log(`     axe note (${v.impact}) on ${what}: ${v.id}: ${v.help} [${v.count} element(s)]`);
  }
  const report = bad
    .map((v) => `[${v.impact}] ${v.id}: ${v.help} (${v.count} element(s))\n${v.nodes.map((n) => `        ${n.target}\n          ${(n.summary || '').replace(/\n/g, '\n          ')}`).join('\n')}`)
    .join('\n      ');
  check(bad.length === 0, `axe-core finds no serious or critical accessibility violations on ${what}`, report || undefined);
}

// ----- the journey -------------------------------------------------------------------

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  await mkdir(ARTIFACTS, { recursive: true });
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  console.log(`chromium ${browser.version()}`);

  let invite; // the invite email
  let inviteUrl; // its link, resolved against PORTAL_URL
  let phone; // { context, page, watcher }
  let firstVerification; // the first verification email

  await step('(a) the invite email in the outbox', async () => {
    const emails = await readOutbox();
    const invites = emails.filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
    check(invites.length > 0, `the outbox holds an invite email (${emails.length} email(s) in ${OUTBOX})`);
    invite = invites[invites.length - 1];
    console.log(`     newest invite: ${path.basename(invite.file)} "${invite.subject}" to ${invite.to}`);
    check(invite.contentType === 'multipart/alternative', 'the invite email is multipart/alternative (plain text + HTML)', invite.contentType);
    check(/invited you/i.test(invite.subject), 'the invite email\'s subject says "invited you"', invite.subject);
    inviteUrl = linkFrom(invite, INVITE_PATH_RE, 'invite');
    check(INVITE_PATH_RE.exec(inviteUrl.pathname)?.[1].length === 43, 'the invite link is /i/ followed by a 43-character token', inviteUrl.pathname);
  });

  await step('(b) the invite page on a phone', async () => {
    phone = await newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, 'phone');
    const response = await phone.page.goto(inviteUrl.href);
    check(response?.status() === 200, 'the invite link opens a page (200)', response?.status());
    securityHeaders(response, 'the token-bearing invite page');
    check(/^Welcome,/.test(await heading(phone.page)), 'the invite page greets the contact ("Welcome, ...")', await heading(phone.page));
    const body = norm(await phone.page.locator('main').textContent());
    const address = /<([^>]+)>/.exec(invite.to)?.[1] || invite.to;
    const domain = address.split('@')[1];
    const masked = new RegExp(`\\S•••\\S@${domain.replace(/\./g, '\\.')}`);
    check(masked.test(body), `the invite page shows the masked email address (x•••y@${domain})`, body);
    check(!body.includes(address), 'the invite page does not show the full email address', address);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, 'the invite page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(phone.page, '01-invite.png');
  });

  await step('(c) "Send verification email"', async () => {
    const seen = await seenFiles();
    await phone.page.getByRole('button', { name: 'Send verification email' }).click();
    await phone.page.waitForURL((u) => u.pathname.endsWith('/verify'));
    const u = pathOnly(phone.page.url());
    check(u.path.endsWith('/verify') && !u.hasToken, 'sending lands on /verify, with no token in the address', phone.page.url());
    check(await heading(phone.page) === 'Check your email', 'the verify page says "Check your email"', await heading(phone.page));
    check(await phone.page.locator('#code').isVisible(), 'the verify page has the code field (#code)');
    await shot(phone.page, '01b-verify.png');
    firstVerification = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
  });

  await step('(d) code entry: a wrong code, then the right one; the portal home on a phone', async () => {
    const email = firstVerification;
    console.log(`     verification email: ${path.basename(email.file)} "${email.subject}"`);
    check(email.mtimeMs >= invite.mtimeMs, 'the verification email is newer than the invite email');
    const code = codeIn(email.text);
    check(code !== null, 'the verification email has a 6-digit code', email.text.slice(0, 600));
    check(codeIn(email.html) === code, 'the HTML part shows the same code');
    linkFrom(email, MAGIC_PATH_RE, 'magic');

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await phone.page.locator('#code').fill(wrong);
    await phone.page.getByRole('button', { name: 'Continue', exact: true }).click();
    const error = phone.page.locator('#code-error');
    await error.waitFor();
    const errorText = norm(await error.textContent());
    check(/try \d+ more times?/.test(errorText), 'a wrong code shows an error that says how many tries are left', errorText);
    check(await phone.page.locator('#code').getAttribute('aria-invalid') === 'true', 'the code field is marked aria-invalid after a wrong code');
    check(!pathOnly(phone.page.url()).hasToken, 'the wrong-code page has no token in its address', phone.page.url());
    await shot(phone.page, '01c-wrong-code.png');

    await phone.page.locator('#code').fill(code);
    await phone.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await phone.page.waitForURL((u) => u.pathname === '/');
    const u = pathOnly(phone.page.url());
    check(u.path === '/' && !u.hasToken && !phone.page.url().includes(code), 'the right code lands on the portal home at /, with no token or code in the address', phone.page.url());

    const title = await heading(phone.page);
    check(/onboarding$/.test(title), 'the portal home has its heading ("... onboarding")', title);
    const label = norm(await phone.page.locator('label[for="overall-progress"]').textContent());
    check(/^Overall progress/.test(label), 'the home shows the "Overall progress" label', label);
    const value = Number(await phone.page.locator('progress#overall-progress').getAttribute('value'));
    check(Number.isFinite(value) && value >= 0 && value <= 100, 'the progress bar value is a number from 0 to 100', value);
    const labelPercent = Number(/(\d+)%/.exec(label)?.[1]);
    check(labelPercent === value, `the progress bar value (${value}) matches the label's percentage`, label);

    for (const name of TABS) {
      const tab = phone.page.locator('nav.tabs a').filter({ hasText: name });
      check(await tab.count() === 1, `the "${name}" tab exists`);
      check(/[?&]tab=/.test(await tab.getAttribute('href')), `the "${name}" tab is a link with ?tab=`, await tab.getAttribute('href'));
    }
    const badges = phone.page.locator('.task .badge');
    const badgeTexts = (await badges.allTextContents()).map(norm).filter(Boolean);
    check(badgeTexts.length > 0, `task cards show evidence badges (${[...new Set(badgeTexts)].join(', ')})`);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, 'the portal home fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(phone.page, '02-home-phone.png');

    // axe-core is injected as a script, which the portal's CSP (rightly) refuses; so it
    // runs in a twin context that ignores CSP and carries the same session cookie.
    const axeContext = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true,
      storageState: await phone.context.storageState(),
    });
    axeContext.setDefaultTimeout(ACTION_TIMEOUT_MS);
    try {
      const axePage = await axeContext.newPage();
      await axePage.goto(`${PORTAL_URL}/`);
      check(/onboarding$/.test(await heading(axePage)), 'the accessibility-check browser shares the signed-in session');
      await axeCheck(axePage, 'the portal home (Your Tasks)');
      await axePage.goto(`${PORTAL_URL}/?tab=progress`);
      await axeCheck(axePage, 'the Our Progress tab');
    } finally {
      await axeContext.close();
    }

    await phone.page.locator('nav.tabs a').filter({ hasText: 'Our Progress' }).click();
    await phone.page.waitForURL((u) => u.search.includes('tab=progress'));
    const current = phone.page.locator('nav.tabs a[aria-current="page"]');
    check(norm(await current.textContent()).startsWith('Our Progress'), 'the "Our Progress" tab opens and is marked as the current one', await current.textContent());
    const panel = norm(await phone.page.locator('#panel-title').textContent());
    check(panel.length > 0, `the progress panel has a heading ("${panel}")`);
    await shot(phone.page, '02b-progress-phone.png');
  });

  let desktop;
  await step('(e) the magic link on a desktop', async () => {
    desktop = await newContext({ viewport: { width: 1280, height: 900 } }, 'desktop');
    const page = desktop.page;
    const opened = await page.goto(inviteUrl.href);
    check(opened?.status() === 200, 'the invite link opens again in a new browser (200)', opened?.status());
    const seen = await seenFiles();
    await page.getByRole('button', { name: 'Send verification email' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/verify'));
    check(true, 'sending again lands on /verify');
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'second verification');
    check(email.mtimeMs >= firstVerification.mtimeMs && email.file !== firstVerification.file, 'a second, newer verification email arrived');
    const magicUrl = linkFrom(email, MAGIC_PATH_RE, 'magic');
    const magicHref = new URL(magicUrl.pathname, `${PORTAL_URL}/`).href;

    const confirm = await page.goto(magicHref);
    check(confirm?.status() === 200, 'the magic link opens a confirmation page (200)', confirm?.status());
    securityHeaders(confirm, 'the token-bearing magic-link page');
    check(await heading(page) === "Confirm it's you", 'the magic-link page asks to confirm ("Confirm it\'s you")', await heading(page));
    const cookies = await desktop.context.cookies();
    check(!cookies.some((c) => c.name.endsWith('portal_session')), 'opening the magic link (GET) does not sign in: no session cookie', cookies.map((c) => c.name));
    const home = await desktop.context.request.get(`${PORTAL_URL}/`, { maxRedirects: 0 });
    check(home.status() === 401, 'the portal home still asks to sign in after only opening the link (401)', home.status());
    const again = await page.reload();
    check(again?.status() === 200 && await heading(page) === "Confirm it's you", 'opening the magic link twice still shows the confirmation (GET does not use it up)', again?.status());
    await shot(page, '03a-magic-confirm.png');

    await page.getByRole('button', { name: 'Continue to the portal' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    check(!pathOnly(page.url()).hasToken, 'confirming lands on the portal home at /, with no token in the address', page.url());
    check(/onboarding$/.test(await heading(page)), 'the desktop browser is signed in to the portal', await heading(page));
    await shot(page, '03-home-desktop.png');

    const used = await page.goto(magicHref);
    check(used?.status() === 404, 'the used magic link now answers 404', used?.status());
    check(/isn't valid/.test(await heading(page)), 'the used magic link shows the "isn\'t valid" page', await heading(page));
    await shot(page, '03b-used-magic-link.png');
  });

  await step('(f) sign out', async () => {
    const page = desktop.page;
    await page.goto(`${PORTAL_URL}/`);
    check(/onboarding$/.test(await heading(page)), 'the desktop browser is still signed in after visiting the used link');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/signed-out'));
    check(await heading(page) === "You're signed out", 'signing out shows "You\'re signed out"', await heading(page));
    const cookies = await desktop.context.cookies();
    check(!cookies.some((c) => c.name.endsWith('portal_session')), 'signing out removes the session cookie', cookies.map((c) => c.name));
    await shot(page, '04-signed-out.png');
    const after = await page.goto(`${PORTAL_URL}/`);
    check(after?.status() === 401, 'the portal home answers 401 after signing out', after?.status());
    check(await heading(page) === 'Please sign in again', 'the portal home says "Please sign in again" after signing out', await heading(page));
    await shot(page, '04b-sign-in-again.png');

    const other = await phone.page.goto(`${PORTAL_URL}/`);
    check(other?.status() === 200 && /onboarding$/.test(await heading(phone.page)), 'signing out on the desktop leaves the phone\'s own session signed in', other?.status());
  });

  await step('(g) nothing broke along the way', async () => {
    const problems = [...phone.watcher.problems, ...desktop.watcher.problems];
    check(problems.length === 0, 'no console errors, CSP violations or failed stylesheet/image loads on any page', problems.join('\n      '));
  });

  await finish(0);
}

const watchdog = setTimeout(() => {
  fail(new CheckFailed(`the whole journey did not finish within ${TOTAL_TIMEOUT_MS / 1000} s`));
}, TOTAL_TIMEOUT_MS);
watchdog.unref();

main().catch(fail);
