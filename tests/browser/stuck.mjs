// "I'm stuck" and a due-date request, end to end in headless Chromium: the client on a
// phone, staff in the console on a desktop.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/stuck.mjs
//
// Staff adds a fresh client task to the demo portal through the admin API (so the run
// needs no seeded task untouched). The client signs in from the newest invite, opens
// the task, says "I'm stuck" with a reason (the MSP's notification lands in the outbox
// at once) and asks for a new due date ten days out. Staff signs in to the console,
// finds the request in the review queue, opens the task, answers and clears the stuck
// report, and approves the date. The client then sees the answer and the new due date
// (and has the email). axe-core runs on the client's page in both states and on the
// console's task page; screenshots (50-...) at phone size.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as console.mjs (PORTAL_URL, OUTBOX, API_KEY, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api, submit,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const API_KEY = process.env.API_KEY;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const stamp = Date.now().toString(36);
const TITLE = `Tell us your router model (${stamp})`;
const REASON = `I can't find the label on the router (${stamp})`;
const ANSWER = `It's on the underside, next to the serial number. (${stamp})`;
const DUE_REASON = `Our office manager is away until next week (${stamp})`;

/** YYYY-MM-DD of today (UTC) plus `days`. */
function isoDay(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** "Sun 20 Dec 2026", as the portal writes a due date. */
function words(iso) {
  const d = new Date(`${iso}T12:00:00Z`);
  const wd = d.toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' });
  const mon = d.toLocaleDateString('en-GB', { month: 'short', timeZone: 'UTC' });
  return `${wd} ${d.getUTCDate()} ${mon} ${d.getUTCFullYear()}`;
}

const NEW_DUE = isoDay(10);

let phone;
let twin;
let staff;
let taskId;
let taskUrl;

async function axeOn(url, what) {
  const tw = await twin.newPage();
  try {
    const res = await tw.goto(url);
    check(res?.status() === 200, `the accessibility-check browser opens ${what} (200)`, res?.status());
    await axeCheck(tw, what);
  } finally {
    await tw.close();
  }
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) staff adds a client task to the demo portal (admin API)', async () => {
    const portals = await api('GET', '/portals?limit=100');
    check(portals.status === 200, 'the API lists the portals', portals.text);
    const portal = portals.json.items.find((p) => p.client_name === 'Contoso Dental Group');
    check(Boolean(portal), 'the demo portal "Contoso Dental Group" is listed');
    const plan = await api('GET', `/portals/${portal.id}/plan`);
    check(plan.status === 200 && plan.json.phases.length > 0, 'its plan has a phase', plan.text);
    const added = await api('POST', `/portals/${portal.id}/phases/${plan.json.phases[0].id}/tasks`, {
      title: TITLE,
      description: 'The model and serial number are on a label on the router.',
      due_date: isoDay(2),
    });
    check(added.status === 201, `the task "${TITLE}" is added`, added.text);
    taskId = added.json.id;
  });

  await step('(1) the client signs in on a phone: newest invite -> verification email -> code', async () => {
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

  await step('(2) "I\'m stuck" with a reason: the task waits on the MSP, the MSP is emailed at once', async () => {
    const page = phone.page;
    taskUrl = `${PORTAL_URL}/tasks/${taskId}`;
    const res = await page.goto(taskUrl);
    check(res?.status() === 200 && await heading(page) === TITLE, `the task page opens: "${TITLE}"`, await heading(page));
    const summary = page.locator('summary', { hasText: "I'm stuck" });
    check(await summary.count() === 1, 'the page offers "I\'m stuck"');
    await summary.tap();
    await page.getByLabel('What stops you?').fill(REASON);
    const seen = await seenFiles();
    await submit(page, page.getByRole('button', { name: /I'm stuck$/ }), true);
    check(/done=stuck/.test(page.url()), 'the form lands back on the task with a notice', page.url());
    const state = norm(await page.locator('#stuck-state').textContent());
    check(/^Waiting for .+ to help\./.test(state) && state.includes(REASON), 'the page says it waits on the MSP, with the reason', state);
    check(/\d{1,2}:\d{2}/.test(state) && /\(([A-Za-z_]+\/[A-Za-z_]+|UTC)\)|UTC/.test(state), 'the time is shown with its zone named', state);
    const thread = norm(await page.locator('.thread').textContent());
    check(thread.includes(`I'm stuck: ${REASON}`), 'the reason is posted in the task\'s thread', thread);
    const note = await waitForEmail(seen, (e) => /is stuck on/.test(e.subject) && e.text.includes(REASON), 'the MSP\'s stuck notification');
    check(note.text.includes(TITLE), 'the MSP\'s email names the task', note.subject);
    check(await page.locator('summary', { hasText: "I'm stuck" }).count() === 0, 'a second "I\'m stuck" is not offered while stuck');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(page, '50-stuck-waiting.png');
  });

  await step('(3) the client asks for a new due date, ten days out', async () => {
    const page = phone.page;
    await page.locator('summary', { hasText: 'Ask for a new due date' }).tap();
    await page.getByLabel('New due date').fill(NEW_DUE);
    await page.getByLabel('Why do you need it?').fill(DUE_REASON);
    await submit(page, page.getByRole('button', { name: 'Ask for this date' }), true);
    check(/done=due-date/.test(page.url()), 'the request lands back on the task with a notice', page.url());
    const list = norm(await page.locator('.due-requests').textContent());
    check(list.includes(words(NEW_DUE)) && /Waiting for/.test(list), `the request for ${words(NEW_DUE)} is shown as pending`, list);
    check(await page.locator('summary', { hasText: 'Ask for a new due date' }).count() === 0, 'one pending request per task: no second form');
    await shot(page, '51-due-date-pending.png');
    await axeOn(taskUrl, 'the stuck task with a pending due-date request');
  });

  await step('(4) staff in the console: the request in the review queue, answer and clear, approve', async () => {
    staff = await newContext(DESKTOP, 'staff');
    const page = staff.page;
    await page.goto(`${PORTAL_URL}/console`);
    await page.getByLabel('API key').fill(API_KEY);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    check(new URL(page.url()).pathname === '/console/portals', 'staff is signed in to the console', page.url());
    await page.goto(`${PORTAL_URL}/console/review`);
    const row = page.locator('#due-requests li', { hasText: TITLE });
    check(await row.count() === 1, 'the review queue lists the due-date request');
    check(norm(await row.textContent()).includes(DUE_REASON), 'with the client\'s reason');
    await submit(page, row.getByRole('link', { name: TITLE }));
    check(await heading(page) === TITLE, 'the request links to the console\'s task page', await heading(page));
    const stuck = norm(await page.locator('#stuck').textContent());
    check(stuck.includes(REASON), 'the console shows the client is stuck, with the reason', stuck);
    const staffTwin = await axeTwin(staff.context, DESKTOP);
    try {
      const tw = await staffTwin.newPage();
      await tw.goto(page.url());
      await axeCheck(tw, 'the console\'s task page with a stuck report and a pending request');
    } finally {
      await staffTwin.close();
    }
    await page.getByLabel(/Your answer/).fill(ANSWER);
    await submit(page, page.getByRole('button', { name: 'Answer and clear' }));
    check(/Answered and cleared/.test(norm(await page.locator('.notice-box').textContent())), 'the console confirms: answered and cleared');
    check(await page.locator('#stuck').count() === 0, 'the stuck report is gone from the console\'s page');
    await submit(page, page.locator('#due-requests').getByRole('button', { name: `Approve ${NEW_DUE}` }));
    check(/Approved the new due date/.test(norm(await page.locator('.notice-box').textContent())), 'the console confirms the approval');
    await shot(page, '52-console-task-answered.png');
  });

  await step('(5) the client sees the answer and the new due date, and has both emails', async () => {
    const page = phone.page;
    await page.goto(taskUrl);
    const cleared = norm(await page.locator('#stuck-cleared').textContent());
    check(cleared.includes(ANSWER), 'the page shows the MSP\'s answer', cleared);
    const thread = norm(await page.locator('.thread').textContent());
    check(thread.includes(ANSWER), 'the answer is in the task\'s thread', thread);
    const due = norm(await page.locator('.task-page .meta .due').first().textContent());
    check(due.includes(words(NEW_DUE)), `the task is now due ${words(NEW_DUE)}`, due);
    const list = norm(await page.locator('.due-requests').textContent());
    check(/Approved/.test(list), 'the request shows as approved', list);
    const mails = await readOutbox();
    check(mails.some((e) => /answered you on/.test(e.subject) && e.text.includes(ANSWER)), 'the client was emailed the answer');
    check(mails.some((e) => /^New due date for/.test(e.subject) && e.subject.includes(TITLE)), 'the client was emailed the new due date');
    check(await page.locator('summary', { hasText: "I'm stuck" }).count() === 1, '"I\'m stuck" is offered again');
    await shot(page, '53-stuck-answered.png');
    await axeOn(taskUrl, 'the task after the MSP answered and approved');
  });

  await step('(6) nothing broke along the way', async () => {
    for (const [who, ctx] of [['phone', phone], ['staff', staff]]) {
      const problems = ctx.watcher.problems;
      check(problems.length === 0, `${who}: no console errors, CSP violations or failed loads`, problems.join('\n      '));
    }
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the stuck and due-date run');
