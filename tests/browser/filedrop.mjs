// The secure file drop task on a phone, in headless Chromium, as a client does it.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/filedrop.mjs
//
// Signs in through the real flow (the newest invite email -> the code), opens the
// seeded "Send your firewall configuration backup" task, drags two files onto the drop
// area at once (a drop event carrying both, as a drag from the desktop delivers it):
// each gets its own progress bar and both are listed without a reload, each with its
// size and the time left ("expires in 6 days 23 hours") and the exact expiry in the
// contact's zone; deletes one, and sees only the other left; then, without
// JavaScript, chooses two files in the plain multiple input and sends them in one
// submit. axe-core runs on the page with files listed. Screenshots go to
// artifacts/ (40-...). Needs the task untouched (fresh demo data); runs after
// credentials.mjs on the same server.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as journey.mjs (PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  dropFiles,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 180_000;
const TITLE = 'Send your firewall configuration backup';
const FILES = [
  { name: 'firewall-backup.conf', type: 'text/plain', content: 'config system global\n  set hostname "fw-01"\nend\n'.repeat(200) },
  { name: 'vpn-users.csv', type: 'text/csv', content: 'user,group\nlee,vpn\ndana,vpn\n' },
];
const NO_JS_FILES = [
  { name: 'switch-config.txt', mimeType: 'text/plain', buffer: Buffer.from('hostname core-1\n') },
  { name: 'ap-list.csv', mimeType: 'text/csv', buffer: Buffer.from('ap,room\nap-1,lobby\n') },
];

let phone;
let twin;
let taskUrl;

async function listed(page) {
  return page.locator('.drop-list li.drop:not(.gone) .file-name').allTextContents();
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) sign in on a phone: newest invite -> verification email -> code', async () => {
    const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
    check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
    const invite = invites[invites.length - 1];
    console.log(`     newest invite: ${path.basename(invite.file)} "${invite.subject}"`);
    phone = await newContext(PHONE, 'phone');
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
    check(await page.locator('.signed-in').count() === 1, 'signed in');
    twin = await axeTwin(phone.context);
  });

  await step('(1) the file drop task: the form, nothing dropped yet', async () => {
    const page = phone.page;
    const link = page.getByRole('link', { name: TITLE }).first();
    check(await link.count() === 1, `the home links to "${TITLE}"`);
    await Promise.all([page.waitForURL((u) => /^\/tasks\/[^/]+$/.test(u.pathname)), link.tap()]);
    taskUrl = page.url();
    check(await heading(page) === TITLE, `the link opens "${TITLE}"`, await heading(page));
    check(await page.locator('#drop-file[multiple]').count() === 1, 'the page has a file input that takes several files');
    check(await page.getByText('Drop files here, or choose them: they are sent straight away.').isVisible(), 'with JavaScript the area says it takes dropped files');
    check(norm(await page.locator('.drops-task').textContent()).includes('No files dropped yet.'), 'nothing is dropped yet');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
  });

  await step('(2) drag two files at once: a progress bar each, both listed without a reload', async () => {
    const page = phone.page;
    await page.evaluate(() => {
      window.__uploadMark = true;
      window.__progressBars = [];
      new MutationObserver((records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            if (n.nodeType === 1 && n.matches('.upload-row')) window.__progressBars.push(n.querySelector('.file-name').textContent);
          }
        }
      }).observe(document.body, { subtree: true, childList: true });
    });
    await dropFiles(page, '[data-drop-files] .dropzone', FILES);
    await page.locator('.drop-list li.drop').nth(1).waitFor();
    const bars = await page.evaluate(() => window.__progressBars);
    check(bars.length === 2 && bars[0] === FILES[0].name && bars[1] === FILES[1].name, 'each file got its own progress bar', bars);
    check(await page.evaluate(() => window.__uploadMark === true), 'the page was updated in place, not reloaded');
    const names = await listed(page);
    check(FILES.every((f) => names.includes(f.name)), 'both files are listed', names);
    const countdowns = (await page.locator('.drop-list .countdown').allTextContents()).map(norm);
    check(countdowns.length === 2, 'each file shows the time left', countdowns);
    check(countdowns.every((t) => /^expires in 6 days 23 hours/.test(t) || /^expires in 7 days/.test(t)),
      'the time left is about seven days ("expires in 6 days 23 hours")', countdowns);
    const exact = norm(await page.locator('.drop-list .expiry .hint').first().textContent());
    check(/\d{1,2}:\d{2}/.test(exact) && /[A-Z][A-Za-z_]+\/[A-Za-z_]+|UTC|[A-Z]{3,4}/.test(exact), 'the exact expiry names its time and zone', exact);
    check(await page.getByRole('button', { name: /^Delete/ }).count() === 2, 'each file can be deleted (not downloaded yet)');
    await shot(page, '40-filedrop-two-files.png');
    await page.goto(taskUrl);
    const tw = await twin.newPage();
    try {
      const res = await tw.goto(taskUrl);
      check(res?.status() === 200, 'the accessibility-check browser opens the file drop page (200)', res?.status());
      await axeCheck(tw, 'the file drop task with two files');
    } finally {
      await tw.close();
    }
  });

  await step('(3) delete one: only the other is left', async () => {
    const page = phone.page;
    const row = page.locator('.drop-list li.drop').filter({ hasText: FILES[1].name });
    await Promise.all([
      page.waitForEvent('framenavigated'),
      row.getByRole('button', { name: /^Delete/ }).tap(),
    ]);
    await page.waitForLoadState('load');
    const names = await listed(page);
    check(names.includes(FILES[0].name), `${FILES[0].name} is still listed`, names);
    check(!names.includes(FILES[1].name), `${FILES[1].name} is gone from the live files`, names);
    await shot(page, '41-filedrop-one-deleted.png');
  });

  await step('(4) without JavaScript: two files chosen at once, sent in one submit', async () => {
    const plain = await newContext({ ...PHONE, javaScriptEnabled: false, storageState: await phone.context.storageState() }, 'phone without JavaScript');
    try {
      const page = plain.page;
      const res = await page.goto(taskUrl);
      check(res?.status() === 200, 'the task opens without JavaScript (200)', res?.status());
      check(await page.getByRole('button', { name: 'Drop files', exact: true }).isVisible(), 'without JavaScript the "Drop files" button shows');
      await page.locator('#drop-file').setInputFiles(NO_JS_FILES);
      await Promise.all([
        page.waitForEvent('framenavigated'),
        page.getByRole('button', { name: 'Drop files', exact: true }).tap(),
      ]);
      await page.waitForLoadState('load');
      const names = await listed(page);
      check(NO_JS_FILES.every((f) => names.includes(f.name)), 'both files of the one submit are listed', names);
      check(norm(await page.locator('.task-page').textContent()).includes('Files dropped.'), 'the page says the files were dropped');
    } finally {
      await plain.context.close();
    }
  });

  await step('(5) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'no console errors, CSP violations or failed loads on any page', problems.join('\n      '));
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the file drop run');
