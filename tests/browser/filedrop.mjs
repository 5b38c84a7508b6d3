// The secure file drop task on a phone, in headless Chromium, as a client does it.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/filedrop.mjs
//
// Signs in through the real flow (the newest invite email -> the code), opens the
// seeded "Send your firewall configuration backup" task, drops two files one after the
// other, sees each listed with its size and the time left ("expires in 6 days 23
// hours") with the exact expiry in the contact's zone, deletes one, and sees only the
// other left. axe-core runs on the page with files listed. Screenshots go to
// artifacts/ (40-...). Needs the task untouched (fresh demo data); runs after
// credentials.mjs on the same server.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as journey.mjs (PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 180_000;
const TITLE = 'Send your firewall configuration backup';
const FILES = [
  { name: 'firewall-backup.conf', mimeType: 'text/plain', buffer: Buffer.from('config system global\n  set hostname "fw-01"\nend\n'.repeat(200)) },
  { name: 'vpn-users.csv', mimeType: 'text/csv', buffer: Buffer.from('user,group\nlee,vpn\ndana,vpn\n') },
];

let phone;
let twin;
let taskUrl;

async function dropOne(page, file) {
  await page.locator('#drop-file').setInputFiles(file);
  await Promise.all([
    page.waitForEvent('framenavigated'),
    page.getByRole('button', { name: 'Drop file', exact: true }).tap(),
  ]);
  await page.waitForLoadState('load');
  await page.locator('.drop-list').waitFor();
}

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
    check(await page.locator('#drop-file').count() === 1, 'the page has a file input');
    check(await page.getByRole('button', { name: 'Drop file', exact: true }).isVisible(), 'the page has a "Drop file" button');
    check(norm(await page.locator('.drops-task').textContent()).includes('No files dropped yet.'), 'nothing is dropped yet');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
  });

  await step('(2) drop two files: each listed with its size and the time left', async () => {
    const page = phone.page;
    for (const file of FILES) await dropOne(page, file);
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

  await step('(4) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'no console errors, CSP violations or failed loads on any page', problems.join('\n      '));
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the file drop run');
