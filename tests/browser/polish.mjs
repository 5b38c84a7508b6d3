// Issue 14's small things and the settings page, in headless Chromium at phone size.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/polish.mjs
//
// Staff adds a two-item checklist to the demo portal through the admin API (so the run
// needs no seeded task untouched). The client signs in on a phone, ticks both items (the
// task completes), then unticks the last one by tapping "Uncheck" (the task reopens).
// Every page links the accent-colored favicon (and /favicon.ico leads to it); a page
// that does not exist shows the MSP's branding and a way back. The client signs in a
// second time on a desktop, opens Settings on the phone, sees both devices ("This
// device" marked once) and signs the other out: the desktop is signed out, the phone
// is not. axe-core runs on the task and settings pages; screenshots (60-...) at phone size.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: as stuck.mjs (PORTAL_URL, OUTBOX, API_KEY, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, INVITE_PATH_RE, PHONE, ARTIFACTS,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api, submit, signInFrom,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const API_KEY = process.env.API_KEY;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const stamp = Date.now().toString(36);
const TITLE = `Confirm your office details (${stamp})`;

let phone;
let desktop;
let twin;
let taskUrl;

/** Signs a new browser context in from the newest invite; returns the context. */
async function signIn(options, label, tap) {
  const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
  check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
  const invite = invites[invites.length - 1];
  console.log(`     newest invite: ${path.basename(invite.file)} "${invite.subject}"`);
  return signInFrom(linkFrom(invite, INVITE_PATH_RE, 'invite').href, options, label, { tap });
}

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

async function progress(page) {
  return norm(await page.locator('section[aria-label="Checklist"] p strong').first().textContent());
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(0) staff adds a two-item checklist to the demo portal (admin API)', async () => {
    const portals = await api('GET', '/portals?limit=100');
    check(portals.status === 200, 'the API lists the portals', portals.text);
    const portal = portals.json.items.find((p) => p.client_name === 'Contoso Dental Group');
    check(Boolean(portal), 'the demo portal "Contoso Dental Group" is listed');
    const plan = await api('GET', `/portals/${portal.id}/plan`);
    check(plan.status === 200 && plan.json.phases.length > 0, 'its plan has a phase', plan.text);
    const added = await api('POST', `/portals/${portal.id}/phases/${plan.json.phases[0].id}/tasks`, {
      title: TITLE,
      kind: { type: 'checklist', items: [{ id: 'address', label: 'Office address' }, { id: 'hours', label: 'Opening hours' }] },
    });
    check(added.status === 201, `the checklist "${TITLE}" is added`, added.text);
    taskUrl = `${PORTAL_URL}/tasks/${added.json.id}`;
  });

  await step('(1) the client signs in on a phone', async () => {
    phone = await signIn(PHONE, 'phone', true);
    twin = await axeTwin(phone.context);
  });

  await step('(2) the last tick completes the checklist; unticking it reopens the task', async () => {
    const page = phone.page;
    const res = await page.goto(taskUrl);
    check(res?.status() === 200 && await heading(page) === TITLE, `the task page opens: "${TITLE}"`, await heading(page));
    for (const label of ['Office address', 'Opening hours']) {
      await submit(page, page.getByRole('button', { name: `Check ${label}` }), true);
    }
    check(await progress(page) === '2 of 2', 'both items are checked', await progress(page));
    const pill = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(/complete/i.test(pill), 'the task is completed', pill);
    const uncheck = page.getByRole('button', { name: 'Uncheck Opening hours' });
    check(await uncheck.count() === 1, 'the completed checklist still offers "Uncheck"');
    await shot(page, '60-checklist-completed.png');
    await submit(page, uncheck, true);
    check(await progress(page) === '1 of 2', 'one item is checked again', await progress(page));
    const reopened = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(!/complete/i.test(reopened), `the task is open again (${reopened})`, reopened);
    check(await page.getByRole('button', { name: 'Check Opening hours' }).count() === 1, 'the item can be ticked again');
    check(!(await sidewaysOverflow(page)), 'no sideways scrolling on the phone');
    await shot(page, '61-checklist-unticked.png');
    await axeOn(taskUrl, 'the reopened checklist');
  });

  await step('(3) every page links the accent-colored favicon; /favicon.ico leads to it', async () => {
    const page = phone.page;
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    check(/^\/favicon\.svg\?c=[0-9a-f]{6}$/.test(href || ''), `the page links ${href}`, href);
    const icon = await page.request.get(`${PORTAL_URL}${href}`);
    check(icon.status() === 200 && icon.headers()['content-type'] === 'image/svg+xml', 'the icon is an SVG (200)', icon.status());
    const accent = href.split('c=')[1];
    check((await icon.text()).includes(`fill="#${accent}"`), `it is drawn in the accent #${accent}`);
    const ico = await page.request.get(`${PORTAL_URL}/favicon.ico`);
    check(ico.status() === 200 && ico.headers()['content-type'] === 'image/svg+xml', '/favicon.ico is not a 404: it leads to the SVG', ico.status());
  });

  await step('(4) a page that does not exist keeps the MSP\'s branding and a way back', async () => {
    const page = phone.page;
    const res = await page.goto(`${PORTAL_URL}/no-such-page`);
    check(res?.status() === 404, 'the address answers 404', res?.status());
    const company = norm(await page.locator('header .company').textContent());
    check(company !== '' && company !== 'Client portal', `the header names the MSP ("${company}")`, company);
    check(await page.getByRole('link', { name: 'Back to your portal' }).count() === 1, 'a link leads back to the portal');
    await shot(page, '62-not-found-branded.png');
  });

  await step('(5) Settings: both devices listed, "Sign out other devices" signs the desktop out', async () => {
    desktop = await signIn(DESKTOP, 'desktop', false);
    const page = phone.page;
    await page.goto(`${PORTAL_URL}/`);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/settings'),
      page.getByRole('link', { name: 'Settings' }).tap(),
    ]);
    check(await heading(page) === 'Settings', 'the header links Settings', await heading(page));
    const devices = page.locator('.devices .device');
    check(await devices.count() >= 2, `the devices are listed (${await devices.count()})`);
    check(await page.locator('.devices .device.current').count() === 1, '"This device" is marked once');
    const zone = norm(await page.locator('#zone-title + p').textContent());
    check(/shown in/.test(zone), `the zone is named: ${zone}`, zone);
    check(!(await sidewaysOverflow(page)), 'no sideways scrolling on the phone');
    await shot(page, '63-settings.png');
    await axeOn(`${PORTAL_URL}/settings`, 'the settings page');
    await submit(page, page.getByRole('button', { name: 'Sign out other devices' }), true);
    const notice = norm(await page.locator('.notice').textContent());
    check(/Every other device is signed out/.test(notice), 'the page confirms', notice);
    check(await page.locator('.devices .device').count() === 1, 'only this device is left');
    await shot(page, '64-settings-others-signed-out.png');
    const after = await desktop.page.goto(`${PORTAL_URL}/`);
    check(after?.status() !== 200 || await desktop.page.locator('.signed-in').count() === 0, 'the desktop is signed out', after?.status());
    const still = await page.goto(`${PORTAL_URL}/`);
    check(still?.status() === 200 && await page.locator('.signed-in').count() === 1, 'the phone is still signed in');
  });

  await step('(6) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    check(problems.length === 0, 'phone: no console errors, CSP violations or failed loads', problems.join('\n      '));
    await twin.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the polish run');
