// Shared helpers for the browser scripts (journey.mjs, tasks.mjs): configuration,
// check/step reporting, reading the demo's outbox (.eml files), browser contexts that
// record problems a person would notice, screenshots and axe-core checks.
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

export const PORTAL_URL = (process.env.PORTAL_URL || 'http://localhost:18080').replace(/\/+$/, '');
export const OUTBOX = process.env.OUTBOX;
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.ARTIFACTS || path.join(here, 'artifacts');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

export const ACTION_TIMEOUT_MS = 15_000; // any single browser action or navigation
export const STEP_TIMEOUT_MS = 45_000; // one step, all its actions together
export const MAIL_TIMEOUT_MS = 15_000; // waiting for an email to land in the outbox

export const TOKEN = '[A-Za-z0-9_-]{43}';
export const INVITE_PATH_RE = new RegExp(`/i/(${TOKEN})(?![A-Za-z0-9_-])`);
export const MAGIC_PATH_RE = new RegExp(`/m/(${TOKEN})(?![A-Za-z0-9_-])`);
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

// ----- reporting ---------------------------------------------------------------------

let passed = 0;
let failed = 0;
let currentStep = '';
let browser;

/** The browser launched by `launchBrowser`. */
export function getBrowser() {
  return browser;
}

export class CheckFailed extends Error {}

/** Records one passing check, or throws with `message` (and `detail`) if `ok` is false. */
export function check(ok, message, detail) {
  if (!ok) {
    const extra = detail === undefined ? '' : `\n      ${typeof detail === 'string' ? detail : JSON.stringify(detail, null, 2)}`;
    throw new CheckFailed(`${message}${extra}`);
  }
  passed += 1;
  console.log(`  ok ${passed} - ${message}`);
}

export async function finish(code) {
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), sleep(5_000)]);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

export async function fail(err) {
  failed = 1;
  const what = err instanceof CheckFailed ? err.message : (err && err.stack) || String(err);
  console.log(`\nFAILED in step ${currentStep}:\n  ${what}\n`);
  await finish(1);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs one lettered step with a time limit. */
export async function step(name, fn) {
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
export function splitMessage(raw) {
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
export async function readEmail(file) {
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
export async function readOutbox() {
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
export async function waitForEmail(seen, pred, what) {
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

export async function seenFiles() {
  return new Set((await readOutbox()).map((e) => e.file));
}

/** The full link (origin + path) for a path pattern, from one body, or null. */
export function findLink(body, pathRe) {
  const re = new RegExp(`https?://[^\\s"'<>/]+${pathRe.source}`);
  const m = re.exec(body);
  return m ? m[0] : null;
}

/** Checks that both bodies of `email` carry the same link, and returns it. */
export function linkFrom(email, pathRe, what) {
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
export function codeIn(body) {
  const m = /(?<![\w-])(\d{6})(?![\w-])/.exec(body.replace(/https?:\/\/\S+/g, ''));
  return m ? m[1] : null;
}

// ----- browser helpers ---------------------------------------------------------------

/**
 * Per-context bookkeeping of problems a person would notice (broken assets, CSP errors,
 * script errors, frames that fail). `ignoreOrigins` lists origins whose *load failures*
 * are expected (an embedded video with no network); anything else from them still counts.
 */
export function watch(context, label, { ignoreOrigins = [] } = {}) {
  const problems = [];
  const expected = []; // ignored load failures, for the log
  const ignored = (url) => {
    try {
      return ignoreOrigins.includes(new URL(url).origin);
    } catch {
      return false;
    }
  };
  // The main document answering 4xx is expected on error pages; a frame inside it is not.
  const mainDocument = (page, req) => req.resourceType() === 'document' && req.frame() === page.mainFrame();
  const attach = (page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // Chromium logs a 4xx main document; expected on error pages, anything else is not.
      if (/Failed to load resource: the server responded with a status of (401|404|422)/.test(text)) return;
      // A failed load from an ignored origin (net::ERR_... with that origin as the source).
      if (/Failed to load resource: net::/.test(text) && ignored(msg.location().url)) {
        expected.push(`console: ${text} (${msg.location().url})`);
        return;
      }
      problems.push(`${label}: console error on ${page.url()}: ${text}${msg.location().url ? ` (${msg.location().url})` : ''}`);
    });
    page.on('pageerror', (err) => problems.push(`${label}: script error on ${page.url()}: ${err.message}`));
    page.on('requestfailed', (req) => {
      if (mainDocument(page, req)) return;
      // Chromium's own PDF viewer (a built-in extension) cancels its internal loads
      // when the page moves on or scrolls under a touch; not a load of the portal's.
      // Likewise the favicon, which Chromium fetches on its own and cancels when a
      // quick click navigates before it arrived (seen once in CI's journey).
      const aborted = req.failure()?.errorText === 'net::ERR_ABORTED';
      const viewer = aborted && req.url().startsWith('chrome-extension://');
      const favicon = aborted && new URL(req.url()).pathname.endsWith('/favicon.svg');
      if (ignored(req.url()) || viewer || favicon) {
        expected.push(`${req.resourceType()} ${req.url()} failed: ${req.failure()?.errorText}`);
        return;
      }
      problems.push(`${label}: ${req.resourceType()} ${req.url()} failed: ${req.failure()?.errorText}`);
    });
    page.on('response', (res) => {
      if (!mainDocument(page, res.request()) && res.status() >= 400) {
        problems.push(`${label}: ${res.request().resourceType()} ${res.url()} answered ${res.status()}`);
      }
    });
  };
  context.on('page', (page) => attach(page));
  return { problems, expected, attach };
}

/** Starts headless Chromium (the Debian package) for this run. */
export async function launchBrowser() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  console.log(`chromium ${browser.version()}`);
  return browser;
}

/** A new browser context with time limits and a problem watcher, and its first page. */
export async function newContext(options, label, watchOptions) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const watcher = watch(context, label, watchOptions);
  const page = await context.newPage();
  return { context, page, watcher };
}

/**
 * axe-core is injected as a script, which the portal's CSP (rightly) refuses; so it runs
 * in a twin context that ignores CSP and carries the same cookies as `context`.
 * Close the returned context when done.
 */
export async function axeTwin(context, options = PHONE) {
  const twin = await browser.newContext({ ...options, bypassCSP: true, storageState: await context.storageState() });
  twin.setDefaultTimeout(ACTION_TIMEOUT_MS);
  twin.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  return twin;
}

/** How many CSS pixels the page is wider than the screen (0 or less: no sideways scrolling). */
export async function sidewaysOverflow(page) {
  // Reading layout sizes only; nothing is submitted or changed.
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Runs `main` with a whole-run watchdog; prints the closing line and exits. */
export function run(main, totalTimeoutMs, what) {
  const watchdog = setTimeout(() => {
    fail(new CheckFailed(`${what} did not finish within ${totalTimeoutMs / 1000} s`));
  }, totalTimeoutMs);
  watchdog.unref();
  main().then(() => finish(0), fail);
}

export async function ensureArtifacts() {
  await mkdir(ARTIFACTS, { recursive: true });
}

export async function shot(page, name) {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`     screenshot ${path.relative(process.cwd(), file) || file}`);
}

export const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

export async function heading(page) {
  return norm(await page.locator('h1').first().textContent());
}

export function securityHeaders(response, what) {
  const h = response.headers();
  check(h['referrer-policy'] === 'no-referrer', `${what} is sent with Referrer-Policy: no-referrer`, h['referrer-policy']);
  const csp = h['content-security-policy'] || '';
  check(/default-src 'none'/.test(csp) && /frame-ancestors/.test(csp), `${what} is sent with a Content-Security-Policy (default-src 'none', frame-ancestors)`, csp);
  check(/no-store/.test(h['cache-control'] || ''), `${what} is not cacheable (Cache-Control: no-store)`, h['cache-control']);
}

export function pathOnly(url) {
  const u = new URL(url);
  return { path: u.pathname, query: u.search, hasToken: new RegExp(TOKEN).test(u.pathname + u.search + u.hash) };
}

/** Runs axe-core on the current page and fails on serious or critical violations. */
export async function axeCheck(page, what) {
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

/** Dispatches dragenter, dragover and drop with `files` on the element at `selector`. */
export async function dropFiles(page, selector, files) {
  await page.evaluate(({ selector: sel, files: list }) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([f.content], f.name, { type: f.type }));
    const target = document.querySelector(sel);
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, { selector, files });
}

/**
 * A call to the demo's admin API with the key in `API_KEY`: `{ status, json, text }`
 * (`json` is null when the body is not JSON), with the response's `etag`.
 */
export async function api(method, pathname, body, headers = {}) {
  const res = await fetch(`${PORTAL_URL}/api/v1${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${process.env.API_KEY}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, etag: res.headers.get('etag') };
}

/** Submits a form by tapping/clicking `button` and waits for the page it lands on. */
export async function submit(page, button, tap = false) {
  await Promise.all([
    page.waitForEvent('framenavigated'),
    tap ? button.tap() : button.click(),
  ]);
  await page.waitForLoadState('load');
}

/**
 * Signs a new browser context in from an invite `link`: the invite page's send button,
 * the code from the verification email (to `to`, when given), the continue button. The button names
 * and the email's subject are given, so a run in another language passes its own.
 * Returns the context (`{ context, page, watcher }`).
 */
export async function signInFrom(link, options, label, {
  to, tap = false, send = 'Send verification email', go = 'Continue', subject = /verification code/i,
} = {}) {
  const ctx = await newContext(options, label);
  const page = ctx.page;
  const opened = await page.goto(link);
  check(opened?.status() === 200, `${label}: the invite page opens (200)`, opened?.status());
  const seen = await seenFiles();
  const sendButton = page.getByRole('button', { name: send });
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/verify')),
    tap ? sendButton.tap() : sendButton.click(),
  ]);
  const email = await waitForEmail(seen, (e) => (!to || e.to.includes(to)) && subject.test(e.subject), `${label}: verification`);
  await page.locator('#code').fill(codeIn(email.text));
  const goButton = page.getByRole('button', { name: go, exact: true });
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/'),
    tap ? goButton.tap() : goButton.click(),
  ]);
  check(await page.locator('.signed-in').count() === 1, `${label}: signed in`);
  return ctx;
}

/**
 * The one-line messages of a language's catalog files (`key = value`), read from
 * `portal-core/locales/<lang>/*.ftl`: what a run in that language looks for, and what
 * it must not find in the other language. Multi-line entries (plural selectors) are
 * left out.
 */
export async function catalog(lang) {
  const dir = path.join(here, '..', '..', 'portal-core', 'locales', lang);
  const out = new Map();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ftl')).sort()) {
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      const m = /^([a-z][a-z0-9-]*) = (.+)$/.exec(line);
      if (m && !m[2].trim().endsWith('->')) out.set(m[1], m[2].trim());
    }
  }
  return out;
}

/** A catalog message with its `{ $name }` arguments filled in and its markup removed. */
export function fill(message, args = {}) {
  return (message || '')
    .replace(/\{ *\$([a-z_]+) *\}/g, (_, name) => String(args[name] ?? ''))
    .replace(/<[^>]+>/g, '');
}
