// The credential handoff task on a phone, in headless Chromium, as a client does it.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/credentials.mjs
//
// Signs in through the real flow (the newest invite email -> the code), opens the
// seeded "Share your Microsoft 365 admin credentials" task, checks that without
// JavaScript the password is a plain password field with no toggle, then fills the
// form with the keyboard only: types the username, Tab, the password, Tab to the
// show/hide toggle (a real button), Space shows the password (aria-pressed=true),
// Enter hides it again, then submits. Afterwards the page says only "Submitted by X at
// T" and the password is on no client page. axe-core runs on the form and on the page
// after. Screenshots go to artifacts/ (30-...).
//
// Runs after tasks.mjs, documents.mjs and console.mjs on the same server (they leave
// this task untouched); it needs the task not submitted yet (fresh demo data).
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as journey.mjs (PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, getBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 180_000;
const CONTACT = 'Dana Whitfield';
const TITLE = 'Share your Microsoft 365 admin credentials';
const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, '');
const USERNAME = `admin-${stamp}@contoso.example`;
const PASSWORD = `Corr3ct-Horse-${stamp}-Battery!`;
const NOTES = `MFA codes go to Lee's phone (${stamp}).`;

let phone;
let twin;
let taskUrl;

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
    const signedIn = norm(await page.locator('.signed-in').textContent());
    check(signedIn === `Signed in as ${CONTACT}`, `signed in as ${CONTACT}`, signedIn);
    twin = await axeTwin(phone.context);
  });

  await step('(1) the credential task page: the form, and without JavaScript a plain password field', async () => {
    const page = phone.page;
    const link = page.locator('.task h4 a').filter({ hasText: TITLE });
    check(await link.count() === 1, `the home lists "${TITLE}" with a link`);
    await Promise.all([page.waitForURL((u) => /^\/tasks\/[^/]+$/.test(u.pathname)), link.tap()]);
    taskUrl = page.url();
    check(await heading(page) === TITLE, `tapping the card opens "${TITLE}"`, await heading(page));
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    for (const label of ['Username', 'Password', 'Notes']) {
      check(await page.getByLabel(label, { exact: false }).count() >= 1, `the form has a "${label}" field`);
    }
    check(await page.locator('#cred-api-key').count() === 0, 'no API key field: this task does not ask for one');
    const toggle = page.getByRole('button', { name: 'Show password' });
    check(await toggle.isVisible(), 'with JavaScript, the "Show password" toggle button is shown');
    check(await toggle.getAttribute('aria-pressed') === 'false', 'the toggle starts unpressed (aria-pressed=false)');
    check(await toggle.getAttribute('aria-controls') === 'cred-password', 'the toggle names the field it controls');
    await shot(page, '30-credentials-form.png');
    await axeOn(taskUrl, 'the credential handoff form');

    const noJs = await getBrowser().newContext({ ...PHONE, javaScriptEnabled: false, storageState: await phone.context.storageState() });
    try {
      const p = await noJs.newPage();
      const res = await p.goto(taskUrl);
      check(res?.status() === 200, 'without JavaScript the page opens (200)', res?.status());
      check(await p.locator('#cred-password').getAttribute('type') === 'password', 'without JavaScript the password is a plain password field');
      check(!(await p.getByRole('button', { name: 'Show password' }).isVisible()), 'without JavaScript no toggle is offered');
      check(await p.getByRole('button', { name: 'Submit Credentials' }).isVisible(), 'without JavaScript the form can still be submitted');
    } finally {
      await noJs.close();
    }
  });

  await step('(2) fill in with the keyboard, show and hide the password with the toggle, submit', async () => {
    const page = phone.page;
    const field = page.locator('#cred-password');
    const toggle = page.locator('button[data-password-toggle]');
    await page.locator('#cred-username').focus();
    await page.keyboard.type(USERNAME);
    await page.keyboard.press('Tab');
    check(await field.evaluate((el) => el === document.activeElement), 'Tab moves from Username to Password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    check(await toggle.evaluate((el) => el === document.activeElement), 'Tab moves from Password to the show/hide toggle');
    await page.keyboard.press('Space');
    check(await field.getAttribute('type') === 'text', 'Space on the toggle shows the password');
    check(await toggle.getAttribute('aria-pressed') === 'true', 'the toggle says it is pressed (aria-pressed=true)');
    check(await field.inputValue() === PASSWORD, 'the shown password is what was typed');
    await shot(page, '31-credentials-password-shown.png');
    await page.keyboard.press('Enter');
    check(await field.getAttribute('type') === 'password', 'Enter on the toggle hides it again');
    check(await toggle.getAttribute('aria-pressed') === 'false', 'the toggle is unpressed again');
    await page.keyboard.press('Space');
    check(await field.getAttribute('type') === 'text', 'shown once more before submitting');
    await page.locator('#cred-notes').focus();
    await page.keyboard.type(NOTES);
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('done') === 'credentials'),
      page.getByRole('button', { name: 'Submit Credentials' }).tap(),
    ]);
    const n = norm(await page.locator('p.notice[role="status"]').textContent());
    check(n.startsWith('Credentials submitted.'), 'the page confirms the submission', n);
  });

  await step('(3) afterwards: only "Submitted by X at T", and the values come back nowhere', async () => {
    const page = phone.page;
    const done = norm(await page.locator('.credentials-task .done').textContent());
    check(done.startsWith(`✓ Submitted by ${CONTACT} at `), `the page says "Submitted by ${CONTACT} at …"`, done);
    check(/\d{1,2}:\d{2} \S+/.test(done), 'the time is given with its zone', done);
    check(await page.locator('.credentials-task input, .credentials-task textarea').count() === 0, 'no field is shown any more');
    await shot(page, '32-credentials-submitted.png');
    const pages = [taskUrl, `${PORTAL_URL}/`, `${PORTAL_URL}/?tab=progress`, `${PORTAL_URL}/?tab=documents`, `${PORTAL_URL}/?tab=approvals`, `${PORTAL_URL}/questions`];
    for (const url of pages) {
      const res = await page.goto(url);
      const body = await res.text();
      const html = await page.content();
      for (const [what, value] of [['password', PASSWORD], ['username', USERNAME], ['notes', NOTES]]) {
        check(!body.includes(value) && !html.includes(value), `the ${what} is not on ${new URL(url).pathname}${new URL(url).search}`);
      }
    }
    await axeOn(taskUrl, 'the credential handoff task after submitting');
  });

  await step('(4) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'no console errors, CSP violations or failed loads on any page', problems.join('\n      '));
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the credential handoff run');
