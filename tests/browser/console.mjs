// The staff console (examples/demo/src/console/) in headless Chromium, with the client
// in a second browser context: staff signs in with the demo's API key, creates a portal
// from a template it makes first, adds a contact and invites them; the client
// signs in from the outbox and sees the plan; staff edits a task's title and moves its
// due date, and the client sees both; the client asks a question, staff answers it in
// the console, and the client sees the answer. axe-core checks every console page;
// screenshots at phone and desktop size. Forms are used without JavaScript (the
// console has none).
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node console.mjs
//
// API_KEY: an admin key of the running demo (the first start prints one).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PORTAL_URL, OUTBOX, ARTIFACTS, CHROMIUM, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts, sidewaysOverflow,
  securityHeaders,
} from './lib.mjs';

const API_KEY = process.env.API_KEY;
const LOGO = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../examples/demo/assets/logo.png');
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const stamp = Date.now().toString(36);
const CLIENT = `Northwind Traders ${stamp}`;
const TEMPLATE = `Standard onboarding ${stamp}`;
const CONTACT = 'Rosa Alvarez';
const EMAIL = `rosa.${stamp}@northwind.example`;
const QUESTION = `Can we keep our old printer during the migration? (${stamp})`;
const ANSWER = `Yes: we move it over in week two, nothing to do on your side. (${stamp})`;

let staff; // desktop context of the staff member
let client; // phone context of the client contact
let portalUrl; // the console's page of the new portal
let clientTitles; // the client tasks of its plan, as the console lists them
const consolePages = new Map(); // what -> URL, for axe and phone screenshots

/** Submits a form by clicking `button` and waits for the page it lands on. */
async function submit(page, button) {
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), button.click()]);
}

async function noticeText(page) {
  const n = page.locator('.notice-box');
  return (await n.count()) > 0 ? norm(await n.first().textContent()) : '';
}

async function errorText(page) {
  const n = page.locator('.error-box');
  return (await n.count()) > 0 ? norm(await n.first().textContent()) : '';
}

/** The client's home: every task title and its due text. */
async function clientTasks(page) {
  await page.goto(`${PORTAL_URL}/`);
  return page.locator('li.task').evaluateAll((items) => items.map((li) => ({
    title: (li.querySelector('h4')?.textContent || '').replace(/\s+/g, ' ').trim(),
    due: (li.querySelector('.due')?.textContent || '').replace(/\s+/g, ' ').trim(),
  })));
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(1) staff signs in to the console with the API key', async () => {
    staff = await newContext(DESKTOP, 'staff');
    const page = staff.page;
    const res = await page.goto(`${PORTAL_URL}/console`);
    check(new URL(page.url()).pathname === '/console/sign-in', 'the console sends a signed-out visitor to its sign-in page', page.url());
    securityHeaders(res, 'the sign-in page');
    consolePages.set('the sign-in page', page.url());
    await page.getByLabel('API key').fill('pk_' + '0'.repeat(64));
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    check(/not accepted/.test(await errorText(page)), 'a wrong key is refused with a readable message', await errorText(page));
    await page.getByLabel('API key').fill(API_KEY);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    check(new URL(page.url()).pathname === '/console/portals' && await heading(page) === 'Portals', 'the key signs in: the portals list', page.url());
    const cookies = await staff.context.cookies();
    const session = cookies.find((c) => c.name === 'console_session');
    check(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict', session);
    check(!cookies.some((c) => c.value.includes(API_KEY.slice(3))), 'no cookie holds the API key');
    check(!(await page.content()).includes(API_KEY.slice(3)), 'the page does not show the API key');
    consolePages.set('the portals list', page.url());
    await shot(page, 'console-01-portals-desktop.png');
  });

  await step('(2) staff makes a template, then creates a portal from it', async () => {
    const page = staff.page;
    await page.goto(`${PORTAL_URL}/console/templates`);
    consolePages.set('the templates', page.url());
    await page.getByLabel('Name').fill(TEMPLATE);
    await submit(page, page.getByRole('button', { name: 'Create template' }));
    check(await heading(page) === TEMPLATE, `the new template's page opens: "${TEMPLATE}"`, await heading(page));
    await page.getByLabel('Phase name').fill('Kickoff');
    await submit(page, page.getByRole('button', { name: 'Add phase' }));
    check(/Added the phase/.test(await noticeText(page)), 'a phase is added to the template', `${await noticeText(page)} ${await errorText(page)}`);
    for (const [title, who, days] of [['Send us your network diagram', 'The client', '14'], ['Set up monitoring', 'The MSP', '21']]) {
      await page.locator('details.edit summary').filter({ hasText: 'Add a task to' }).first().click();
      await page.getByLabel('Title').fill(title);
      await page.getByLabel('Who does it').selectOption({ label: who });
      await page.getByLabel(/Due, in days/).fill(days);
      await submit(page, page.getByRole('button', { name: 'Add task' }));
      check(/Added the task/.test(await noticeText(page)), `"${title}" is added to the template`, `${await noticeText(page)} ${await errorText(page)}`);
    }
    consolePages.set('a template', page.url());
    await shot(page, 'console-02a-template-desktop.png');

    await page.goto(`${PORTAL_URL}/console/portals`);
    await page.getByLabel('Client company').fill(CLIENT);
    await page.getByLabel('Start from').selectOption({ label: `Template: ${TEMPLATE}` });
    await page.getByLabel(/Start date/).fill('2027-01-04');
    await submit(page, page.getByRole('button', { name: 'Create portal' }));
    check(await heading(page) === CLIENT, `the new portal's page opens: "${CLIENT}"`, `${await heading(page)} ${await errorText(page)}`);
    check(/it is open to its contacts/.test(await noticeText(page)), 'the portal is created from the template and opened', await noticeText(page));
    portalUrl = page.url().split('?')[0];
    const tasks = (await page.locator('li.task h4').allTextContents()).map(norm);
    check(tasks.join('|') === 'Send us your network diagram|Set up monitoring', 'the plan is the template\'s', tasks);
    const due = norm(await page.locator('li.task').first().locator('.due').textContent());
    check(due === 'Due Mon 18 Jan 2027', 'due dates count from the start date (4 Jan + 14 days)', due);
    clientTitles = await page.locator('li.task').evaluateAll((items) => items
      .filter((li) => !/MSP task|internal/.test(li.textContent))
      .map((li) => li.querySelector('h4').textContent.trim()));
    consolePages.set('the plan', page.url());
    await shot(page, 'console-02-plan-desktop.png');
  });

  await step('(3) staff adds a contact and invites them', async () => {
    const page = staff.page;
    await page.goto(`${portalUrl}?tab=contacts`);
    await page.getByLabel('Email', { exact: true }).fill('not an email');
    await page.getByLabel('Name', { exact: true }).fill(CONTACT);
    // The browser's own check would stop an invalid email: the server's is what is tested.
    await page.locator('form[action$="/contacts"]').evaluate((f) => f.setAttribute('novalidate', ''));
    await submit(page, page.getByRole('button', { name: 'Add contact' }));
    const fieldError = page.locator('#contact-email-error');
    check(await fieldError.count() === 1, 'an invalid email is refused with the error next to the Email field', await errorText(page));
    check(await page.getByLabel('Name', { exact: true }).inputValue() === CONTACT, 'what was typed is kept');
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    const seen = await seenFiles();
    await submit(page, page.getByRole('button', { name: 'Add contact' }));
    check(/Added Rosa Alvarez and emailed them an invite/.test(await noticeText(page)), 'the contact is added and invited', await noticeText(page));
    const link = norm(await page.locator('.secret code').textContent());
    check(INVITE_PATH_RE.test(link), 'the invite link is shown once to copy', link);
    check(await page.locator('.rows h3').filter({ hasText: CONTACT }).count() === 1, 'the contact is listed');
    await waitForEmail(seen, (e) => e.to.includes(EMAIL), 'invite');
    consolePages.set('the contacts', page.url());
    await shot(page, 'console-03-contacts-desktop.png');
  });

  let before;
  await step('(4) the client signs in from the outbox in a second browser and sees the plan', async () => {
    const invites = (await readOutbox()).filter((e) => e.to.includes(EMAIL) && INVITE_PATH_RE.test(e.text));
    check(invites.length === 1, `one invite email to ${EMAIL}`, invites.length);
    const inviteUrl = linkFrom(invites[0], INVITE_PATH_RE, 'invite');
    client = await newContext(PHONE, 'client');
    const page = client.page;
    await page.goto(inviteUrl.href);
    const seen = await seenFiles();
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith('/verify')),
      page.getByRole('button', { name: 'Send verification email' }).tap(),
    ]);
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject) && e.to.includes(EMAIL), 'verification');
    await page.locator('#code').fill(codeIn(email.text));
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.getByRole('button', { name: 'Continue', exact: true }).tap(),
    ]);
    check(norm(await page.locator('.signed-in').textContent()) === `Signed in as ${CONTACT}`, `the client is signed in as ${CONTACT}`);
    before = await clientTasks(page);
    check(before.length > 0, `the client sees the plan (${before.length} tasks)`, before);
    check(before.some((t) => t.title === clientTitles[0]), `the client sees "${clientTitles[0]}" from the console's plan`, before);
    await shot(page, 'console-04-client-plan-phone.png');
  });

  const NEW_DUE = '2027-02-26';
  const NEW_DUE_TEXT = 'Fri 26 Feb 2027';
  let newTitle;
  await step('(5) staff edits a task title and moves its due date; the client sees both', async () => {
    const page = staff.page;
    await page.goto(portalUrl);
    const first = page.locator('li.task').filter({ hasNotText: 'MSP task' }).first();
    const oldTitle = norm(await first.locator('h4').textContent());
    await submit(page, first.getByRole('link', { name: `Edit task ${oldTitle}` }));
    check(await heading(page) === oldTitle, `the task page opens: "${oldTitle}"`, await heading(page));
    consolePages.set('a task', page.url());
    newTitle = `${oldTitle} (updated ${stamp})`;
    await page.getByLabel('Title').fill(newTitle);
    await page.getByLabel(/Due date/).fill(NEW_DUE);
    await submit(page, page.getByRole('button', { name: 'Save task' }));
    check(/Saved the task/.test(await noticeText(page)), 'the console saves the task', `${await noticeText(page)} ${await errorText(page)}`);
    check(await heading(page) === newTitle, 'the task page shows the new title');
    await shot(page, 'console-05-task-desktop.png');
    const after = await clientTasks(client.page);
    const seen = after.find((t) => t.title === newTitle);
    check(Boolean(seen), `the client sees the new title "${newTitle}"`, after);
    check(seen.due.startsWith(`Due ${NEW_DUE_TEXT}`), `the client sees the new due date (${NEW_DUE_TEXT})`, seen);
    await shot(client.page, 'console-06-client-edited-phone.png');
  });

  await step('(6) the client asks a question, staff answers in the console, the client sees it', async () => {
    const page = client.page;
    await page.goto(`${PORTAL_URL}/questions`);
    await page.getByLabel('Your question').fill(QUESTION);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send question' }).tap()]);
    const s = staff.page;
    await s.goto(`${portalUrl}?tab=questions`);
    const item = s.locator('li.question-row').filter({ hasText: QUESTION });
    check(await item.count() === 1, 'the question is in the console');
    consolePages.set('the questions', s.url());
    await item.getByLabel('Your answer').fill(ANSWER);
    await submit(s, item.getByRole('button', { name: 'Send answer' }));
    check(/Sent your answer/.test(await noticeText(s)), 'the console sends the answer', `${await noticeText(s)} ${await errorText(s)}`);
    await shot(s, 'console-07-questions-desktop.png');
    await page.goto(`${PORTAL_URL}/questions`);
    const answered = page.locator('ul.thread li').filter({ hasText: QUESTION });
    check(norm(await answered.locator('.answer').textContent()).includes(ANSWER), 'the client sees the answer under the question');
    await shot(page, 'console-08-client-answer-phone.png');
  });

  await step('(7) the other console pages open', async () => {
    const page = staff.page;
    for (const [what, url] of [
      ['the documents', `${portalUrl}?tab=documents`],
      ['the activity feed', `${portalUrl}?tab=activity`],
      ['the access log', `${portalUrl}?tab=access`],
      ['the review queue', `${PORTAL_URL}/console/review`],
      ['the MSP branding', `${PORTAL_URL}/console/branding`],
      ['the portal branding', `${portalUrl}/branding`],
      ['the API keys', `${PORTAL_URL}/console/keys`],
    ]) {
      const res = await page.goto(url);
      check(res?.status() === 200, `${what} opens (200)`, res?.status());
      consolePages.set(what, url);
    }
    await page.goto(`${portalUrl}?tab=activity`);
    const feed = (await page.locator('ul.feed li').allTextContents()).map(norm);
    check(feed.some((l) => l.includes('asked a question')), 'the activity feed lists the question', feed.slice(0, 8));
    await shot(page, 'console-09-activity-desktop.png');
    await page.goto(`${PORTAL_URL}/console/branding`);
    await page.getByLabel('Company display name').fill('Bluefin Preview');
    await page.getByLabel('Accent colour').fill('#7a1fa2');
    await submit(page, page.getByRole('button', { name: 'Preview' }));
    check(norm(await page.locator('.preview-head').textContent()) === 'Bluefin Preview', 'the branding preview shows the typed name without JavaScript');
    await shot(page, 'console-10-branding-preview-desktop.png');
    await page.goto(`${portalUrl}/branding`);
    await page.getByLabel(/New logo/).setInputFiles(LOGO);
    await submit(page, page.getByRole('button', { name: 'Save branding', exact: true }));
    check(/Saved the branding/.test(await noticeText(page)), 'a logo is uploaded with the portal branding', `${await noticeText(page)} ${await errorText(page)}`);
    const logo = page.getByRole('img', { name: 'Current logo' });
    check(await logo.count() === 1 && await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the portal branding shows the uploaded logo');
    await page.goto(`${PORTAL_URL}/console/keys`);
    await page.getByLabel(/Name/).fill('Helpdesk');
    await submit(page, page.getByRole('button', { name: 'Create key' }));
    const key = norm(await page.locator('.secret code').textContent());
    check(/^pk_[0-9a-f]{64}$/.test(key), 'an admin creates a member key, shown once');
  });

  // One step per page: each runs axe-core (in a CSP-ignoring twin with the staff
  // member's cookies) and checks the page on a phone.
  const twin = await axeTwin(staff.context, DESKTOP);
  const phone = await axeTwin(staff.context, PHONE);
  let i = 0;
  for (const [what, url] of consolePages) {
    i += 1;
    await step(`(8.${i}) axe-core and a phone screen: ${what}`, async () => {
      const page = await twin.newPage();
      const res = await page.goto(url);
      check(res?.status() === 200 || what === 'the sign-in page', `the accessibility-check browser opens ${what}`, res?.status());
      await axeCheck(page, `the console's ${what}`);
      await page.close();
      const small = await phone.newPage();
      await small.goto(url);
      const overflow = await sidewaysOverflow(small);
      check(overflow <= 0, `${what} fits a phone screen`, `${overflow}px too wide`);
      await shot(small, `console-p${String(i).padStart(2, '0')}-${what.replace(/[^a-z]+/gi, '-')}-phone.png`);
      await small.close();
    });
  }
  await twin.close();
  await phone.close();

  await step('(9) nothing broke along the way', async () => {
    check(staff.watcher.problems.length === 0, 'no broken asset, CSP or script error in the console', staff.watcher.problems);
    check(client.watcher.problems.length === 0, 'no problem in the client browser', client.watcher.problems);
  });
}

run(main, 360_000, 'the console run');
