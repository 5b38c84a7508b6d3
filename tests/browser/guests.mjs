// Guests and the handover from the previous provider (issue 15) in headless Chromium.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/guests.mjs
//
// Run against a freshly seeded demo (its own data folder: it signs the demo contact in
// once more, and the access policy allows 10 verification emails per contact an hour).
// (0) Staff start the handover through the demo's admin API: the phase "Handover from
// your previous provider" with a checklist and a credential-handoff task, shared with
// the outgoing provider's new guest. (1) The guest signs in on a phone from the
// invitation in the outbox and sees only the two shared tasks: no tabs, no progress.
// (2) They tick the whole checklist off, which completes it. (3) A direct URL to
// another task of the portal is the 404 page. (4) The client, on a desktop, signs in
// and sees the handover phase's progress in Our Progress (1 of 2 tasks), but not the
// guest's thread. Screenshots (80-...). Every check prints a line; the run ends with
// "N passed, 0 failed" (exit 0).
// Environment: PORTAL_URL, OUTBOX, API_KEY, CHROMIUM, ARTIFACTS (as team.mjs).

import {
  PORTAL_URL, OUTBOX, CHROMIUM, INVITE_PATH_RE, PHONE, ARTIFACTS,
  check, step, run, launchBrowser, newContext, shot, heading, norm,
  sidewaysOverflow, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api, submit, signInFrom,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const API_KEY = process.env.API_KEY;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const stamp = Date.now().toString(36);
const GUEST = { name: `Olly Outgoing ${stamp}`, email: `olly.${stamp}@previous-it.example` };
const PHASE = 'Handover from your previous provider';
const COMMENT = `The old firewall admin login is with the owner (${stamp})`;

let portalId;
let checklist;
let credentials;
let otherTask;
let guest;
let client;

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) staff start the handover from the previous provider (admin API)', async () => {
    const portals = await api('GET', '/portals?limit=100');
    check(portals.status === 200, 'the API lists the portals', portals.text);
    const portal = portals.json.items.find((p) => p.client_name === 'Contoso Dental Group');
    check(Boolean(portal), 'the demo portal "Contoso Dental Group" is listed');
    portalId = portal.id;
    const seen = await seenFiles();
    const started = await api('POST', `/portals/${portalId}/handover`, {
      organisation: 'Previous IT Ltd', name: GUEST.name, email: GUEST.email,
    });
    check(started.status === 201, 'the handover starts (201)', started.text);
    check(started.json.phase.name === PHASE, `the phase is "${PHASE}"`, started.json.phase.name);
    const kinds = started.json.phase.tasks.map((t) => t.kind.type).join(', ');
    check(kinds === 'checklist, credential_handoff', `a checklist and a credential handoff (${kinds})`, kinds);
    [checklist, credentials] = started.json.phase.tasks;
    const again = await api('POST', `/portals/${portalId}/handover`, {
      organisation: 'Another IT', name: 'Another', email: `another.${stamp}@previous-it.example`,
    });
    check(again.status === 409, 'a second handover is refused (409)', again.text);
    const plan = await api('GET', `/portals/${portalId}/plan`);
    otherTask = plan.json.phases.flatMap((p) => p.tasks).find((t) => t.id !== checklist.id && t.id !== credentials.id);
    check(Boolean(otherTask), 'the plan has another task');
    const invite = await waitForEmail(seen, (e) => e.to.includes(GUEST.email) && INVITE_PATH_RE.test(e.text), 'guest invite');
    check(invite.text.includes(checklist.title), 'the guest\'s invitation names the checklist', invite.text);
    guest = { link: linkFrom(invite, INVITE_PATH_RE, 'invite').href };
  });

  await step('(1) the guest signs in on a phone and sees only the shared tasks', async () => {
    guest = await signInFrom(guest.link, PHONE, 'guest (phone)', { tap: true, to: GUEST.email });
    const page = guest.page;
    const main = norm(await page.locator('main').textContent());
    check(main.includes(checklist.title) && main.includes(credentials.title), 'the home lists both handover tasks', main.slice(0, 400));
    check(!main.includes(otherTask.title), `the client's other task "${otherTask.title}" is not listed`);
    check(await page.locator('a[href*="?tab="]').count() === 0, 'no tabs for a guest');
    check(!/Our Progress|% done|% complete/i.test(main), 'no progress for a guest', main.slice(0, 400));
    check(!(await sidewaysOverflow(page)), 'no sideways scrolling on the phone');
    await shot(page, '80-guest-home.png');
  });

  await step('(2) the guest ticks the checklist off, which completes it', async () => {
    const page = guest.page;
    const res = await page.goto(`${PORTAL_URL}/tasks/${checklist.id}`);
    check(res?.status() === 200 && await heading(page) === checklist.title, 'the guest opens the checklist', await heading(page));
    for (const item of checklist.kind.items) {
      await submit(page, page.getByRole('button', { name: `Check ${item.label}` }), true);
    }
    const pill = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(/complete/i.test(pill), `the checklist is completed (${pill})`, pill);
    await page.locator('#comment').fill(COMMENT);
    await submit(page, page.getByRole('button', { name: /^(Send|Post|Add comment)/ }), true);
    check(norm(await page.locator('main').textContent()).includes(COMMENT), 'the guest\'s comment is in their thread');
    await shot(page, '81-guest-checklist-done.png');
  });

  await step('(3) a direct URL to another task is the 404 page', async () => {
    const page = guest.page;
    const res = await page.goto(`${PORTAL_URL}/tasks/${otherTask.id}`);
    check(res?.status() === 404, 'another task answers 404', res?.status());
    const main = norm(await page.locator('main').textContent());
    check(!main.includes(otherTask.title), 'the page does not name the task', main.slice(0, 300));
    await shot(page, '82-guest-other-task-404.png');
  });

  await step('(4) the client sees the handover\'s progress, not the guest\'s thread (desktop)', async () => {
    const contacts = await api('GET', `/portals/${portalId}/contacts?limit=100`);
    check(contacts.status === 200, 'the API lists the contacts', contacts.text);
    const dana = contacts.json.items.find((c) => !c.guest && !c.revoked_at);
    check(Boolean(dana), 'the portal has a contact of the client');
    const link = await api('POST', `/portals/${portalId}/contacts/${dana.id}/invite-link`);
    check(link.status === 200 && INVITE_PATH_RE.test(link.json?.invite_url || ''), 'their invite link is issued', link.text);
    client = await signInFrom(link.json.invite_url, DESKTOP, 'client (desktop)', { tap: false, to: dana.email });
    const page = client.page;
    const res = await page.goto(`${PORTAL_URL}/?tab=progress`);
    check(res?.status() === 200, 'Our Progress opens', res?.status());
    const phase = page.locator('li.phase', { hasText: PHASE });
    check(await phase.count() === 1, `Our Progress shows "${PHASE}"`);
    const facts = norm(await phase.locator('.phase-facts').textContent());
    check(/50% done \(1 of 2 tasks/.test(facts), `its progress: ${facts}`, facts);
    await shot(page, '83-client-handover-progress.png');
    const task = await page.goto(`${PORTAL_URL}/tasks/${checklist.id}`);
    check(task?.status() === 200, 'the client opens the handover checklist', task?.status());
    check(!norm(await page.locator('main').textContent()).includes(COMMENT), 'the guest\'s thread is not shown to the client');
  });

  await step('(5) nothing broke along the way', async () => {
    check(guest.watcher.problems.length === 0, 'guest: no console errors, CSP violations or failed loads', guest.watcher.problems.join('\n      '));
    check(client.watcher.problems.length === 0, 'client: no console errors, CSP violations or failed loads', client.watcher.problems.join('\n      '));
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the guests run');
