// Colleagues (issue 15) in headless Chromium: a contact invites a colleague, the MSP
// approves, the colleague signs in from their own invite and completes a task handed
// to them.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/team.mjs
//
// Staff adds a contact of its own to the demo portal and a two-item checklist through
// the admin API, and signs that contact in from the invite link the API returns (so the
// run never signs the demo contact in: the demo allows 10 verification emails per
// contact per hour and the runs before this one use them). On a phone that contact
// opens "Your team" and invites a colleague; the portal's default mode waits for the
// MSP, which approves through the admin API: the colleague's own invite lands in the
// outbox. The inviter takes the checklist on and hands it to the colleague with a note;
// the colleague is emailed a link to the task, signs in from their invite in a second
// browser context (desktop), opens the task from that email, ticks both items, and the
// task completes. Screenshots (70-...). Every check prints a line; the run ends with
// "N passed, 0 failed" (exit 0).
// Environment: as stuck.mjs (PORTAL_URL, OUTBOX, API_KEY, CHROMIUM, ARTIFACTS).

import {
  PORTAL_URL, OUTBOX, CHROMIUM, INVITE_PATH_RE, PHONE, ARTIFACTS,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api, submit, signInFrom,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const API_KEY = process.env.API_KEY;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const stamp = Date.now().toString(36);
const TITLE = `Confirm the front desk set-up (${stamp})`;
const INVITER = { name: `Priya Raman ${stamp}`, email: `priya.${stamp}@contoso-dental.example` };
const COLLEAGUE = { name: `Marco Silva ${stamp}`, email: `marco.${stamp}@contoso-dental.example` };
const NOTE = 'Marco, you know the front desk best: could you confirm these two?';

let portalId;
let inviterLink;
let taskUrl;
let phone;
let desktop;
let colleagueId;

async function axeOn(context, url, what) {
  const twin = await axeTwin(context);
  try {
    const tw = await twin.newPage();
    const res = await tw.goto(url);
    check(res?.status() === 200, `the accessibility-check browser opens ${what} (200)`, res?.status());
    await axeCheck(tw, what);
  } finally {
    await twin.close();
  }
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) staff adds a contact and a team checklist to the demo portal (admin API)', async () => {
    const portals = await api('GET', '/portals?limit=100');
    check(portals.status === 200, 'the API lists the portals', portals.text);
    const portal = portals.json.items.find((p) => p.client_name === 'Contoso Dental Group');
    check(Boolean(portal), 'the demo portal "Contoso Dental Group" is listed');
    portalId = portal.id;
    const added = await api('POST', `/portals/${portalId}/contacts`, INVITER);
    check(added.status === 201, `the contact "${INVITER.name}" is added`, added.text);
    const invite = await api('POST', `/portals/${portalId}/contacts/${added.json.id}/invite-link`);
    check(invite.status === 200 && INVITE_PATH_RE.test(invite.json?.invite_url || ''), 'their invite link is issued', invite.text);
    inviterLink = invite.json.invite_url;
    const plan = await api('GET', `/portals/${portalId}/plan`);
    check(plan.status === 200 && plan.json.phases.length > 0, 'the plan has a phase', plan.text);
    const task = await api('POST', `/portals/${portalId}/phases/${plan.json.phases[0].id}/tasks`, {
      title: TITLE,
      kind: { type: 'checklist', items: [{ id: 'phones', label: 'Phone extensions' }, { id: 'printer', label: 'Label printer' }] },
    });
    check(task.status === 201, `the checklist "${TITLE}" is added, assigned to nobody`, task.text);
    taskUrl = `${PORTAL_URL}/tasks/${task.json.id}`;
  });

  await step('(1) the contact signs in on a phone and invites a colleague from "Your team"', async () => {
    phone = await signInFrom(inviterLink, PHONE, 'phone', { tap: true });
    const page = phone.page;
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/team'),
      page.getByRole('link', { name: 'Your team' }).tap(),
    ]);
    check(await heading(page) === 'Your team', 'the header links "Your team"', await heading(page));
    check((await page.locator('.team').textContent()).includes(INVITER.name), 'the page lists the contact themself');
    await page.locator('#colleague-name').fill(COLLEAGUE.name);
    await page.locator('#colleague-email').fill(COLLEAGUE.email);
    await submit(page, page.getByRole('button', { name: 'Invite colleague' }), true);
    const listed = norm(await page.locator('.team').textContent());
    check(listed.includes(COLLEAGUE.name), 'the colleague is listed', listed);
    check(/Waiting for your onboarding team to approve/.test(listed), 'the colleague waits for the MSP\'s approval', listed);
    check(!(await sidewaysOverflow(page)), 'no sideways scrolling on the phone');
    await shot(page, '70-team-invited.png');
    await axeOn(phone.context, `${PORTAL_URL}/team`, 'the team page');
    // The MSP's email about it is coalesced with the client's other messages of the
    // last minute (an earlier run's, say), so step (2) checks the approval list instead.
  });

  await step('(2) staff approves: the colleague gets their own invite', async () => {
    const pending = await api('GET', `/portals/${portalId}/colleagues/pending`);
    check(pending.status === 200, 'the API lists the pending colleagues', pending.text);
    const waiting = pending.json.items.find((c) => c.email === COLLEAGUE.email);
    check(Boolean(waiting), 'the colleague is pending', pending.text);
    colleagueId = waiting.id;
    const seen = await seenFiles();
    const approved = await api('POST', `/portals/${portalId}/contacts/${colleagueId}/approve`);
    check(approved.status === 200, 'the MSP approves', approved.text);
    const invite = await waitForEmail(seen, (e) => e.to.includes(COLLEAGUE.email) && INVITE_PATH_RE.test(e.text), 'colleague invite');
    check(invite.to.includes(COLLEAGUE.email), 'the invite is addressed to the colleague alone', invite.to);
    desktop = { link: linkFrom(invite, INVITE_PATH_RE, 'invite').href };
  });

  await step('(3) the contact takes the task on and hands it to the colleague with a note', async () => {
    const page = phone.page;
    const res = await page.goto(taskUrl);
    check(res?.status() === 200 && await heading(page) === TITLE, `the task page opens: "${TITLE}"`, await heading(page));
    await submit(page, page.getByRole('button', { name: 'Take this task on' }), true);
    check(/It's yours now/.test(norm(await page.locator('.notice').textContent())), 'the task is the contact\'s now');
    await page.getByText('Hand this task to a colleague').tap();
    await page.locator('#hand-off-to').selectOption({ label: COLLEAGUE.name });
    await page.locator('#hand-off-note').fill(NOTE);
    const seen = await seenFiles();
    await submit(page, page.getByRole('button', { name: 'Hand it over' }), true);
    const notice = norm(await page.locator('.notice').textContent());
    check(/Handed over/.test(notice), 'the page confirms the hand-off', notice);
    await shot(page, '71-task-handed-off.png');
    const mail = await waitForEmail(seen, (e) => e.to.includes(COLLEAGUE.email) && /handed you/.test(e.subject), 'hand-off');
    check(mail.subject.includes(TITLE), `the colleague is emailed: "${mail.subject}"`, mail.subject);
    const link = linkFrom(mail, /\/tasks\/[0-9a-f-]{36}/, 'task');
    check(link.pathname === new URL(taskUrl).pathname, 'the email links this task', link.href);
  });

  await step('(4) the colleague signs in from their invite on a desktop and completes the task', async () => {
    const link = desktop.link;
    desktop = await signInFrom(link, DESKTOP, 'desktop', { tap: false });
    const page = desktop.page;
    const home = norm(await page.locator('main').textContent());
    check(home.includes(TITLE), 'Your Tasks lists the handed task', home.slice(0, 400));
    const res = await page.goto(taskUrl);
    check(res?.status() === 200 && await heading(page) === TITLE, 'the colleague opens the task', await heading(page));
    check(norm(await page.locator('main').textContent()).includes(NOTE), 'the note is in the comments');
    for (const label of ['Phone extensions', 'Label printer']) {
      await submit(page, page.getByRole('button', { name: `Check ${label}` }));
    }
    const pill = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(/complete/i.test(pill), `the task is completed (${pill})`, pill);
    await shot(page, '72-task-completed-by-colleague.png');
  });

  await step('(5) nothing broke along the way', async () => {
    check(phone.watcher.problems.length === 0, 'phone: no console errors, CSP violations or failed loads', phone.watcher.problems.join('\n      '));
    check(desktop.watcher.problems.length === 0, 'desktop: no console errors, CSP violations or failed loads', desktop.watcher.problems.join('\n      '));
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the colleagues run');
