// The document upload task on a phone, in headless Chromium, with and without
// JavaScript, while the MSP reviews in the demo's staff console (/console, in a second
// browser context signed in with the demo's API key).
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... \
//   node tests/browser/documents.mjs
//
// Signs in through the real flow (newest invite -> verification code) on a phone, then:
// the Documents tab lists the two requested documents; on the task page two files are
// dropped together on "Upload several files at once" (a drop event carrying a
// DataTransfer built in the page, as a drag from the desktop delivers it), each gets a
// progress bar and both read "Uploaded" without a reload; the MSP rejects both with
// notes in the console's review queue; the client
// sees the notes and gets the email; an empty file dropped on a document is refused
// at that document; a new diagram is dropped on the diagram's own area; the ISP
// contract is uploaded again from a context with JavaScript off, with the plain file
// input and the Upload button; the MSP approves both; the Documents tab shows them
// Approved and the task completed; the download returns the bytes uploaded.
// axe-core checks the task page and the tab; screenshots go to artifacts/ (30-...).
//
// Needs the demo's upload task untouched (fresh data); it may run after tasks.mjs.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0) or
// "N passed, 1 failed" (exit 1) after the first failing check.

import path from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, getBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  dropFiles,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const API_KEY = process.env.API_KEY;

// What the demo seed holds (examples/demo/src/seed.rs).
const CONTACT = 'Dana Whitfield';
const TASK = 'Upload your network documentation';
const DIAGRAM = 'Network diagram';
const ISP = 'ISP contract or account details';

const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, '');
const file = (name, text) => ({ name, type: 'application/pdf', content: `%PDF-1.7\n% ${text}\n%%EOF\n` });
const FIRST = [
  file(`network-diagram-${stamp}.pdf`, 'the office network, version 1'),
  file(`isp-contract-${stamp}.pdf`, 'Fibre 500/500 from Example ISP'),
];
const DIAGRAM_2 = file(`network-diagram-v2-${stamp}.pdf`, 'the office network, version 2, with the VLANs');
const ISP_2_PATH = path.join(ARTIFACTS, `isp-contract-all-pages-${stamp}.pdf`);
const ISP_2_TEXT = '%PDF-1.7\n% Fibre 500/500, all four pages\n%%EOF\n';
const REJECT_DIAGRAM = `Please include the second floor too. (${stamp})`;
const REJECT_ISP = `Only the first page came through; please send all pages. (${stamp})`;

let phone; // { context, page, watcher }
let twin; // CSP-ignoring context with the same cookies, for axe-core
let staffCtx; // the MSP's browser, signed in to the staff console

// ----- helpers -----------------------------------------------------------------------

/** The MSP's browser, signed in to the staff console (desktop size). */
async function staffPage() {
  if (staffCtx) return staffCtx.page;
  staffCtx = await newContext({ viewport: { width: 1280, height: 900 } }, 'staff');
  const page = staffCtx.page;
  await page.goto(`${PORTAL_URL}/console/sign-in`);
  await page.getByLabel('API key').fill(API_KEY);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  check(await heading(page) === 'Portals', 'the MSP signs in to the staff console with the API key', page.url());
  return page;
}

/** Reviews the file waiting for `document` as the MSP, in the console's review queue. */
async function review(document, verdict, notes) {
  const page = await staffPage();
  await page.goto(`${PORTAL_URL}/console/review`);
  const item = page.locator('ul.rows > li').filter({ hasText: `${document} for` });
  check(await item.count() === 1, `the console's review queue holds one upload for "${document}"`, await item.count());
  const name = norm(await item.locator('h2').textContent());
  if (notes) await item.getByLabel(/Notes for the client/).fill(notes);
  const button = item.getByRole('button', { name: `${verdict === 'approve' ? 'Approve' : 'Reject'} ${name}` });
  await Promise.all([page.waitForNavigation(), button.click()]);
  const notice = norm(await page.locator('.notice-box').textContent().catch(() => ''));
  const expected = verdict === 'approve' ? `Approved ${name}.` : `Rejected ${name}; the client is emailed your notes.`;
  check(notice === expected, `the MSP ${verdict === 'approve' ? 'approves' : 'rejects'} "${document}" (${name}) in the console`, notice);
  return { name };
}

/** The block of the document named `name` on a task page. */
const docBlock = (page, name) => page.locator('.doc').filter({ has: page.getByRole('heading', { name, exact: true }) });

async function docStatus(page, name) {
  return norm(await docBlock(page, name).locator('.doc-status .pill').first().textContent());
}

/** Starts recording progress bars the upload script adds, and marks the document (a reload would lose the mark). */
async function watchUploads(page) {
  await page.evaluate(() => {
    window.__uploadMark = true;
    window.__progressBars = [];
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n.nodeType === 1 && n.classList.contains('upload-row')) {
            window.__progressBars.push(n.querySelector('.file-name')?.textContent);
          }
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
}

async function announced(page) {
  return norm(await page.locator('#upload-announcer').textContent());
}

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

// ----- the run -----------------------------------------------------------------------

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key (for the staff console)');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) sign in on a phone: newest invite -> verification email -> code', async () => {
    const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
    check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
    const inviteUrl = linkFrom(invites[invites.length - 1], INVITE_PATH_RE, 'invite');
    phone = await newContext(PHONE, 'phone');
    const page = phone.page;
    const opened = await page.goto(inviteUrl.href);
    check(opened?.status() === 200, 'the newest invite link opens the invite page (200)', opened?.status());
    const seen = await seenFiles();
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith('/verify')),
      page.getByRole('button', { name: 'Send verification email' }).tap(),
    ]);
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
    const code = codeIn(email.text);
    check(code !== null, 'the verification email has a 6-digit code');
    await page.locator('#code').fill(code);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.getByRole('button', { name: 'Continue', exact: true }).tap(),
    ]);
    check(norm(await page.locator('.signed-in').textContent()) === `Signed in as ${CONTACT}`, `signed in as ${CONTACT}`);
    twin = await axeTwin(phone.context);
  });

  await step('(1) the Documents tab lists what is requested', async () => {
    const page = phone.page;
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('tab') === 'documents'),
      page.getByRole('link', { name: /^Documents/ }).tap(),
    ]);
    for (const name of [DIAGRAM, ISP]) {
      const item = page.locator('.doc').filter({ has: page.getByRole('heading', { name, exact: true }) });
      check(await item.count() === 1, `the Documents tab lists "${name}"`);
      const status = norm(await item.locator('.pill').first().textContent());
      check(status === 'Requested', `"${name}" is Requested ("Waiting for upload")`, status);
      check((await item.textContent()).includes(TASK), `"${name}" names its task "${TASK}"`);
    }
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the Documents tab fits the phone screen', `${overflow}px too wide`);
    await shot(page, '30-documents-tab-before.png');
    const upload = page.locator('.doc').filter({ has: page.getByRole('heading', { name: DIAGRAM, exact: true }) }).getByRole('link', { name: `Upload for ${DIAGRAM}` });
    await Promise.all([
      page.waitForURL((u) => /^\/tasks\/[^/]+$/.test(u.pathname)),
      upload.tap(),
    ]);
    check(await heading(page) === TASK, `"Upload" opens the task page "${TASK}"`, await heading(page));
  });

  await step('(2) the task page with JavaScript: drop zones, "several at once"', async () => {
    const page = phone.page;
    const several = page.locator('[data-drop-all]');
    check(await several.isVisible(), 'the script shows "Upload several files at once"');
    check(await page.getByText('Drop a file here, or choose one: it uploads straight away.').first().isVisible(), 'each document\'s area says it takes a dropped file');
    check(await page.getByRole('button', { name: 'Upload', exact: true }).first().isHidden(), 'the plain Upload buttons are hidden (a chosen file uploads at once)');
    const inputs = page.locator('.doc input[type=file]');
    check(await inputs.count() === 2, 'each document keeps a real file input (keyboard and screen readers)');
    check(await page.getByLabel(`Choose a file for ${DIAGRAM}`).count() === 1, `the diagram's input is labelled "Choose a file for ${DIAGRAM}"`);
    const limits = norm(await docBlock(page, DIAGRAM).locator('[id$="-limits"]').textContent());
    check(/^Up to 100 MB\. Accepted: .+\.$/.test(limits), `the limit and the accepted types are shown ("${limits}")`, limits);
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the task page fits the phone screen', `${overflow}px too wide`);
    await shot(page, '31-task-before.png');
    await axeOn(page.url(), 'the document upload task page');
  });

  await step('(3) drop two files together: progress bars, then both Uploaded without a reload', async () => {
    const page = phone.page;
    await watchUploads(page);
    await dropFiles(page, '[data-drop-all]', FIRST);
    await page.locator('.doc-uploaded').nth(1).waitFor();
    check(await docStatus(page, DIAGRAM) === 'Uploaded', `"${DIAGRAM}" now reads Uploaded`);
    check(await docStatus(page, ISP) === 'Uploaded', `"${ISP}" now reads Uploaded`);
    check((await docBlock(page, DIAGRAM).textContent()).includes(FIRST[0].name), `the first file went to "${DIAGRAM}"`);
    check((await docBlock(page, ISP).textContent()).includes(FIRST[1].name), `the second file went to "${ISP}"`);
    const bars = await page.evaluate(() => window.__progressBars);
    check(bars.length === 2 && bars[0] === FIRST[0].name && bars[1] === FIRST[1].name, 'each file got its own progress bar', bars);
    check(await page.evaluate(() => window.__uploadMark === true), 'the page was updated in place, not reloaded');
    await page.waitForFunction(() => document.getElementById('upload-announcer').textContent.includes('uploaded'));
    const said = await announced(page);
    check(said.includes(`${FIRST[0].name} uploaded for “${DIAGRAM}”`) && said.includes(`${FIRST[1].name} uploaded for “${ISP}”`), 'the live region announces both uploads', said);
    check(await page.locator('[data-drop-all]').count() === 0, '"several at once" is gone: no document is waiting for a file');
    const status = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(status === 'Waiting for Bluefin Managed IT to review', 'the task now says it waits for the MSP to review', status);
    await shot(page, '32-task-uploaded.png');
  });

  await step('(4) the MSP rejects both with notes; the client sees why and is emailed', async () => {
    const seen = await seenFiles();
    await review(DIAGRAM, 'reject', REJECT_DIAGRAM);
    await review(ISP, 'reject', REJECT_ISP);
    const email = await waitForEmail(seen, (e) => e.subject.includes(`“${ISP}”`), 'rejection');
    check(email.text.includes(REJECT_ISP), 'the rejection email carries the reviewer\'s notes', email.text.slice(0, 600));
    const page = phone.page;
    await page.reload();
    for (const [name, notes] of [[DIAGRAM, REJECT_DIAGRAM], [ISP, REJECT_ISP]]) {
      const block = docBlock(page, name);
      check(await docStatus(page, name) === 'Rejected', `"${name}" reads Rejected`);
      const text = norm(await block.textContent());
      check(text.includes('Needs to be re-uploaded') && text.includes(notes), `"${name}" shows "Needs to be re-uploaded" and the notes`, text);
    }
    await shot(page, '33-task-rejected.png');
  });

  await step('(5) an empty file dropped on a document is refused there', async () => {
    const page = phone.page;
    await dropFiles(page, '#doc-0 .dropzone', [{ name: 'empty.pdf', type: 'application/pdf', content: '' }]);
    const error = docBlock(page, DIAGRAM).locator('.field-error');
    await error.waitFor();
    const text = norm(await error.textContent());
    check(text.includes('empty (0 bytes)'), `the diagram says why: "${text}"`, text);
    check(await docStatus(page, DIAGRAM) === 'Rejected', 'the diagram is unchanged (still Rejected)');
    const input = page.getByLabel(`Upload a new version for ${DIAGRAM}`);
    check(await input.getAttribute('aria-invalid') === 'true', 'its file input is marked invalid and described by the message');
    await page.waitForFunction(() => document.getElementById('upload-announcer').textContent.includes('empty (0 bytes)'));
    check((await announced(page)).includes('empty (0 bytes)'), 'the live region says why too');
    // The refused upload's 400 is this step's point, not a problem of the page.
    const refusal = (p) => p.includes('/documents/') && /answered 400|status of 400/.test(p);
    const expected = phone.watcher.problems.filter(refusal);
    check(expected.length > 0, 'the browser saw the upload refused with 400', phone.watcher.problems);
    phone.watcher.problems.splice(0, phone.watcher.problems.length, ...phone.watcher.problems.filter((p) => !refusal(p)));
    for (const e of expected) console.log(`     expected (the refusal under test): ${e}`);
  });

  await step('(6) a new diagram dropped on its own area', async () => {
    const page = phone.page;
    await dropFiles(page, '#doc-0 .dropzone', [DIAGRAM_2]);
    await page.waitForFunction((name) => [...document.querySelectorAll('.doc')].some((d) => d.textContent.includes(name) && d.querySelector('.pill-uploaded')), DIAGRAM_2.name);
    const text = norm(await docBlock(page, DIAGRAM).textContent());
    check(text.includes(DIAGRAM_2.name) && text.includes('version 2'), 'the diagram shows the new file as version 2', text);
    check(text.includes('Earlier versions (1)'), 'the rejected first version is listed under "Earlier versions"', text);
    check(await docStatus(page, ISP) === 'Rejected', 'the ISP contract is untouched (still Rejected)');
  });

  await step('(7) without JavaScript: the plain file input and Upload button', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(ISP_2_PATH, ISP_2_TEXT);
    const context = await getBrowser().newContext({ ...PHONE, javaScriptEnabled: false, storageState: await phone.context.storageState() });
    try {
      const page = await context.newPage();
      await page.goto(phone.page.url());
      check(await page.locator('[data-drop-all]').isHidden(), 'without JavaScript "several at once" stays hidden');
      const button = docBlock(page, ISP).getByRole('button', { name: 'Upload', exact: true });
      check(await button.isVisible(), 'without JavaScript each document has a visible Upload button');
      await page.getByLabel(`Upload a new version for ${ISP}`).setInputFiles(ISP_2_PATH);
      await Promise.all([
        page.waitForURL((u) => u.searchParams.get('done') === 'uploaded'),
        button.tap(),
      ]);
      const notice = norm(await page.locator('p.notice[role="status"]').textContent());
      check(notice.startsWith('Uploaded.'), `the page confirms: "${notice}"`, notice);
      check(norm(await docBlock(page, ISP).locator('.doc-status .pill').textContent()) === 'Uploaded', `"${ISP}" reads Uploaded again`);
      check((await docBlock(page, ISP).textContent()).includes(path.basename(ISP_2_PATH)), 'the new file is shown');
      await shot(page, '34-task-no-javascript.png');
    } finally {
      await context.close();
    }
  });

  await step('(8) the MSP approves both; Approved everywhere, the task completed', async () => {
    await review(DIAGRAM, 'approve');
    await review(ISP, 'approve', 'Thanks, that is everything we need.');
    const page = phone.page;
    await page.reload();
    check(await docStatus(page, DIAGRAM) === 'Approved' && await docStatus(page, ISP) === 'Approved', 'both documents read Approved on the task page');
    check(await page.locator('form[data-upload]').count() === 0, 'no upload form is left');
    const status = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(status === 'Completed', 'the task is Completed', status);
    await shot(page, '35-task-approved.png');
    await page.goto(`${PORTAL_URL}/?tab=documents`);
    for (const name of [DIAGRAM, ISP]) {
      const item = page.locator('.doc').filter({ has: page.getByRole('heading', { name, exact: true }) });
      const pill = norm(await item.locator('.pill').first().textContent());
      check(pill === 'Approved', `the Documents tab shows "${name}" Approved`, pill);
    }
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the Documents tab still fits the phone screen', `${overflow}px too wide`);
    await shot(page, '36-documents-tab-after.png');
    await axeOn(page.url(), 'the Documents tab');
  });

  await step('(9) the download returns what was uploaded', async () => {
    const page = phone.page;
    const link = page.locator('.doc').filter({ has: page.getByRole('heading', { name: DIAGRAM, exact: true }) }).locator('a.download');
    const [download] = await Promise.all([page.waitForEvent('download'), link.tap()]);
    check(/network.diagram.v2/.test(download.suggestedFilename()), `the download is named after the file ("${download.suggestedFilename()}")`);
    const saved = path.join(ARTIFACTS, `downloaded-${stamp}.pdf`);
    await download.saveAs(saved);
    const bytes = await readFile(saved, 'utf8');
    check(bytes === DIAGRAM_2.content, 'the downloaded bytes are exactly the uploaded ones');
  });

  await step('(10) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'no console errors, CSP violations or failed loads on any page', problems.join('\n      '));
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the document upload run');
