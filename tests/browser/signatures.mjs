// The signature task on a phone, in headless Chromium, as a client signs.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... \
//     node tests/browser/signatures.mjs
//
// Signs in through the real flow (the newest invite email -> the code), opens the
// seeded "Sign the master services agreement" task, whose PDF the seed attached: the
// page frames the PDF (an <iframe> of the portal's own /tasks/{id}/document) and links
// its download, and both answer exactly the same PDF bytes. Then draws a signature on
// the pad (one stroke each with a mouse, a finger and a pen), ticks the consent, submits, and sees "Signed by …" and
// the evidence certificate (every fingerprint recomputed, the document's SHA-256 on
// it). The typed-name path runs in a context with JavaScript disabled, on a second
// signature task the MSP adds through the admin API (API_KEY). axe-core runs on the
// signature page and the certificate. Screenshots go to artifacts/ (50-...).
//
// Runs after credentials.mjs and filedrop.mjs on the same server (they leave the
// signature task untouched); it needs the MSA not signed yet (fresh demo data).
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as journey.mjs (PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS), and API_KEY.

import path from 'node:path';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, getBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 180_000;
const API_KEY = process.env.API_KEY;
const CONTACT = 'Dana Whitfield';
const TITLE = 'Sign the master services agreement';
const DOCUMENT = 'Master Services Agreement v3.pdf';
const TYPED_TITLE = `Sign the acceptable use policy (${new Date().toISOString().slice(11, 19)})`;

let phone;
let twin;
let taskUrl;
let pdfSha;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function axeOn(url, what) {
  const page = await twin.newPage();
  try {
    const res = await page.goto(url);
    check(res?.status() === 200, `the accessibility-check browser opens ${what} (200)`, res?.status());
    await axeCheck(page, what);
  } finally {
    await page.close();
  }
}

/** How many of the canvas's pixels are drawn on (not transparent). */
async function inked(canvas) {
  return canvas.evaluate((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n += 1;
    return n;
  });
}

/**
 * Draws a signature on the pad's canvas in three strokes, one per pointer type the
 * spec names: a mouse, a finger (CDP touch events) and a pen (CDP mouse events with
 * pointerType "pen"). Each stroke must leave ink of its own.
 */
async function drawOn(page, canvas) {
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  check(box !== null && box.width > 100 && box.height > 60, 'the pad has room to draw on', box);
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
  const cdp = await page.context().newCDPSession(page);
  const path = (stroke) => stroke.flatMap((p, i) => {
    if (i === 0) return [at(...p)];
    const [x0, y0] = at(...stroke[i - 1]);
    const [x1, y1] = at(...p);
    return Array.from({ length: 8 }, (_, k) => [x0 + ((x1 - x0) * (k + 1)) / 8, y0 + ((y1 - y0) * (k + 1)) / 8]);
  });
  const strokes = [
    ['a mouse', [[0.08, 0.7], [0.14, 0.3], [0.2, 0.72], [0.26, 0.35], [0.32, 0.7]], async (pts) => {
      await page.mouse.move(...pts[0]);
      await page.mouse.down();
      for (const p of pts.slice(1)) await page.mouse.move(...p);
      await page.mouse.up();
    }],
    ['a finger (touch)', [[0.38, 0.6], [0.44, 0.4], [0.5, 0.62], [0.56, 0.38], [0.62, 0.55]], async (pts) => {
      const touch = (type, [x, y]) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
      await touch('touchStart', pts[0]);
      for (const p of pts.slice(1)) await touch('touchMove', p);
      await touch('touchEnd', pts[pts.length - 1]);
    }],
    ['a pen', [[0.68, 0.65], [0.74, 0.35], [0.8, 0.66], [0.86, 0.4], [0.92, 0.6]], async (pts) => {
      const pen = (type, [x, y], buttons) => cdp.send('Input.dispatchMouseEvent', {
        type, x, y, button: 'left', buttons, clickCount: 1, pointerType: 'pen', force: 0.5,
      });
      await pen('mousePressed', pts[0], 1);
      for (const p of pts.slice(1)) await pen('mouseMoved', p, 1);
      await pen('mouseReleased', pts[pts.length - 1], 0);
    }],
  ];
  for (const [what, stroke, draw] of strokes) {
    const before = await inked(canvas);
    await draw(path(stroke));
    const after = await inked(canvas);
    check(after > before, `a stroke drawn with ${what} leaves ink on the pad`, `${before} -> ${after} pixels`);
  }
  await cdp.detach();
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) sign in on a phone: newest invite -> verification email -> code', async () => {
    const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
    check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
    const invite = invites[invites.length - 1];
    console.log(`     newest invite: ${path.basename(invite.file)} "${invite.subject}"`);
    phone = await newContext({ ...PHONE, acceptDownloads: true }, 'phone');
    const page = phone.page;
    const opened = await page.goto(linkFrom(invite, INVITE_PATH_RE, 'invite').href);
    check(opened?.status() === 200, 'the newest invite link opens the invite page (200)', opened?.status());
    const seen = await seenFiles();
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith('/verify')),
      page.getByRole('button', { name: 'Send verification email' }).tap(),
    ]);
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
    await page.locator('#code').fill(codeIn(email.text));
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.getByRole('button', { name: 'Continue', exact: true }).tap(),
    ]);
    const signedIn = norm(await page.locator('.signed-in').textContent());
    check(signedIn === `Signed in as ${CONTACT}`, `signed in as ${CONTACT}`, signedIn);
    twin = await axeTwin(phone.context);
  });

  await step('(1) the signature page shows the PDF inline and links its download', async () => {
    const page = phone.page;
    const link = page.locator('.task h4 a').filter({ hasText: TITLE });
    check(await link.count() === 1, `the home lists "${TITLE}" with a link`);
    await Promise.all([page.waitForURL((u) => /^\/tasks\/[^/]+$/.test(u.pathname)), link.tap()]);
    taskUrl = page.url();
    check(await heading(page) === TITLE, `tapping the card opens "${TITLE}"`, await heading(page));
    const frame = page.locator('iframe.sign-doc-frame');
    check(await frame.count() === 1, 'the page frames the document (an <iframe>)');
    const src = await frame.getAttribute('src');
    check(new URL(src, taskUrl).pathname === `${new URL(taskUrl).pathname}/document`, 'the frame shows the portal\'s own /tasks/{id}/document', src);
    check(/Master Services Agreement/.test(await frame.getAttribute('title') || ''), 'the frame has a title naming the document', await frame.getAttribute('title'));
    const box = await frame.boundingBox();
    check(box !== null && box.width >= 300 && box.height >= 300, 'the frame is large enough to read on the phone', box);
    const shown = await page.request.get(new URL(src, taskUrl).href);
    const shownBytes = await shown.body();
    check(shown.status() === 200 && shown.headers()['content-type'] === 'application/pdf', 'the framed route answers a PDF (200, application/pdf)', `${shown.status()} ${shown.headers()['content-type']}`);
    check(/^inline/.test(shown.headers()['content-disposition'] || ''), 'it is sent inline, to be shown in the page', shown.headers()['content-disposition']);
    check(/frame-ancestors 'self'/.test(shown.headers()['content-security-policy'] || ''), 'only the portal itself may frame it', shown.headers()['content-security-policy']);
    check(shownBytes.subarray(0, 5).toString() === '%PDF-', 'the framed document is a PDF');
    pdfSha = sha256(shownBytes);
    const hidden = await page.locator('input[name="document_sha256"]').getAttribute('value');
    check(hidden === pdfSha, 'the form carries the SHA-256 of exactly the bytes shown', { hidden, pdfSha });
    const csp = (await page.request.get(taskUrl)).headers()['content-security-policy'] || '';
    check(/frame-src 'self'/.test(csp), "the signature page's CSP allows framing the portal's own document", csp);

    const download = page.getByRole('link', { name: `Download ${DOCUMENT}` });
    check(await download.count() === 1, `the page has a "Download ${DOCUMENT}" link`);
    const [file] = await Promise.all([page.waitForEvent('download'), download.tap()]);
    const saved = await file.path();
    const bytes = await readFile(saved);
    check(file.suggestedFilename() === DOCUMENT, `the download is named "${DOCUMENT}"`, file.suggestedFilename());
    check(sha256(bytes) === pdfSha, 'the download is exactly the framed document (same SHA-256)');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(page, '50-signature-page.png');
    await axeOn(taskUrl, 'the signature page with its document');
  });

  await step('(2) draw a signature with the pointer, tick the consent, submit', async () => {
    const page = phone.page;
    const pad = page.locator('[data-signature-pad]');
    check(await pad.isVisible(), 'with JavaScript the signature pad is shown');
    await drawOn(page, pad.locator('canvas'));
    await page.locator('label[for="sig-consent"]').tap();
    check(await page.locator('#sig-consent').isChecked(), 'tapping the consent statement ticks it');
    await shot(page, '51-signature-drawn.png');
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('done') === 'signed'),
      page.getByRole('button', { name: 'Submit Signature' }).tap(),
    ]);
    const done = norm(await page.locator('.signature-task .done').textContent());
    check(done.startsWith(`✓ Signed by ${CONTACT} at `), `the page says "Signed by ${CONTACT} at …"`, done);
    check(/\d{1,2}:\d{2}.*\S+$/.test(done), 'the time is given with its zone', done);
    check(await page.locator('.signature-task form').count() === 0, 'the form is gone: a task is signed once');
    check(await page.getByRole('link', { name: `Download ${DOCUMENT}` }).count() === 1, 'the signed document stays downloadable');
    await page.locator('.signature-task').scrollIntoViewIfNeeded();
    await shot(page, '52-signature-signed.png');
  });

  await step('(3) the evidence certificate opens, every fingerprint recomputed', async () => {
    const page = phone.page;
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith('/certificate')),
      page.getByRole('link', { name: 'View the evidence certificate' }).tap(),
    ]);
    const text = norm(await page.locator('main').textContent());
    check(text.includes('Every fingerprint below was recomputed and matches'), 'the certificate says every fingerprint matches', text.slice(0, 300));
    check(text.includes(pdfSha), "the certificate lists the document's SHA-256");
    check(text.includes(CONTACT), 'the certificate names the signer');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the certificate fits the phone screen', `${overflow}px too wide`);
    await shot(page, '53-signature-certificate.png');
    await axeOn(page.url(), 'the evidence certificate');
    const evidence = await api('GET', `${new URL(taskUrl).pathname.replace('/tasks/', `/portals/${await portalId()}/tasks/`)}/signature`);
    check(evidence.status === 200 && evidence.json?.intact === true, 'the admin API verifies it too (intact)', evidence.text.slice(0, 300));
    check(evidence.json?.parts?.document === 'matches', "the document's hash is recomputed from the stored document", evidence.json?.parts);
  });

  await step('(4) without JavaScript: the typed name is the signature', async () => {
    const portal = await portalId();
    const plan = await api('GET', `/portals/${portal}/plan`);
    const phase = plan.json?.phases?.[0]?.id;
    check(Boolean(phase), 'the admin API lists the plan\'s phases', plan.text.slice(0, 200));
    const added = await api('POST', `/portals/${portal}/phases/${phase}/tasks`, {
      title: TYPED_TITLE,
      description: 'Read the policy in your welcome pack, then sign.',
      assignee: 'client',
      kind: { type: 'signature', document: null },
    });
    check(added.status === 201, 'the MSP adds a second signature task through the admin API (201)', added.text.slice(0, 300));
    const url = `${PORTAL_URL}/tasks/${added.json.id}`;
    const noJs = await getBrowser().newContext({ ...PHONE, javaScriptEnabled: false, storageState: await phone.context.storageState() });
    try {
      const p = await noJs.newPage();
      const res = await p.goto(url);
      check(res?.status() === 200, 'without JavaScript the page opens (200)', res?.status());
      check(!(await p.locator('[data-signature-pad]').isVisible()), 'without JavaScript the pad stays hidden');
      await p.getByLabel('Your full name').fill(CONTACT);
      await p.locator('#sig-consent').check();
      await Promise.all([
        p.waitForURL((u) => u.searchParams.get('done') === 'signed'),
        p.getByRole('button', { name: 'Submit Signature' }).click(),
      ]);
      const done = norm(await p.locator('.signature-task .done').textContent());
      check(done.startsWith(`✓ Signed by ${CONTACT} at `), `without JavaScript the page says "Signed by ${CONTACT} at …"`, done);
      await shot(p, '54-signature-typed.png');
    } finally {
      await noJs.close();
    }
    const evidence = await api('GET', `/portals/${portal}/tasks/${added.json.id}/signature`);
    check(evidence.json?.signature?.method === 'typed' && evidence.json?.signature?.typed_name === CONTACT, 'the record keeps the typed name', evidence.json?.signature);
  });

  await step('(5) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'no console errors, CSP violations or failed loads on any page', problems.join('\n      '));
    await twin.close();
  });
}

let portal;
/** The demo portal's id (the admin API's first portal). */
async function portalId() {
  if (!portal) {
    const list = await api('GET', '/portals');
    portal = list.json?.items?.[0]?.id;
    check(Boolean(portal), 'the admin API lists the demo portal', list.text.slice(0, 200));
  }
  return portal;
}

run(main, TOTAL_TIMEOUT_MS, 'the signature run');
