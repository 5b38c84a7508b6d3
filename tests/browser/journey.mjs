// End-to-end journey through the demo client portal in headless Chromium.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/journey.mjs
//
// It reads emails from the demo's outbox folder (.eml files) the way a person reads
// their inbox: invite link -> "Send verification email" -> code (a wrong one first)
// -> portal home on a phone; then the magic link on a desktop; then sign-out.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0) or
// "N passed, 1 failed" (exit 1) after the first failing check.
//
// Environment:
//   PORTAL_URL  base address of a running portal-demo (default http://localhost:18080)
//   OUTBOX      the demo's outbox folder (required)
//   CHROMIUM    browser executable (default /usr/bin/chromium)
//   ARTIFACTS   screenshot folder (default artifacts/ next to this file)

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, MAGIC_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm, pathOnly,
  securityHeaders, sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000; // the whole run, as a last resort
const TABS = ['Your Tasks', 'Our Progress', 'Documents', 'Approvals'];

// ----- the journey -------------------------------------------------------------------

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);

  await launchBrowser();

  let invite; // the invite email
  let inviteUrl; // its link, resolved against PORTAL_URL
  let phone; // { context, page, watcher }
  let firstVerification; // the first verification email

  await step('(a) the invite email in the outbox', async () => {
    const emails = await readOutbox();
    const invites = emails.filter((e) => INVITE_PATH_RE.test(e.text) || INVITE_PATH_RE.test(e.html));
    check(invites.length > 0, `the outbox holds an invite email (${emails.length} email(s) in ${OUTBOX})`);
    invite = invites[invites.length - 1];
    console.log(`     newest invite: ${path.basename(invite.file)} "${invite.subject}" to ${invite.to}`);
    check(invite.contentType === 'multipart/alternative', 'the invite email is multipart/alternative (plain text + HTML)', invite.contentType);
    check(/invited you/i.test(invite.subject), 'the invite email\'s subject says "invited you"', invite.subject);
    inviteUrl = linkFrom(invite, INVITE_PATH_RE, 'invite');
    check(INVITE_PATH_RE.exec(inviteUrl.pathname)?.[1].length === 43, 'the invite link is /i/ followed by a 43-character token', inviteUrl.pathname);
  });

  await step('(b) the invite page on a phone', async () => {
    phone = await newContext(PHONE, 'phone');
    const response = await phone.page.goto(inviteUrl.href);
    check(response?.status() === 200, 'the invite link opens a page (200)', response?.status());
    securityHeaders(response, 'the token-bearing invite page');
    check(/^Welcome,/.test(await heading(phone.page)), 'the invite page greets the contact ("Welcome, ...")', await heading(phone.page));
    const body = norm(await phone.page.locator('main').textContent());
    const address = /<([^>]+)>/.exec(invite.to)?.[1] || invite.to;
    const domain = address.split('@')[1];
    const masked = new RegExp(`\\S•••\\S@${domain.replace(/\./g, '\\.')}`);
    check(masked.test(body), `the invite page shows the masked email address (x•••y@${domain})`, body);
    check(!body.includes(address), 'the invite page does not show the full email address', address);
    const overflow = await sidewaysOverflow(phone.page);
    check(overflow <= 0, 'the invite page fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(phone.page, '01-invite.png');
  });

  await step('(c) "Send verification email"', async () => {
    const seen = await seenFiles();
    await phone.page.getByRole('button', { name: 'Send verification email' }).click();
    await phone.page.waitForURL((u) => u.pathname.endsWith('/verify'));
    const u = pathOnly(phone.page.url());
    check(u.path.endsWith('/verify') && !u.hasToken, 'sending lands on /verify, with no token in the address', phone.page.url());
    check(await heading(phone.page) === 'Check your email', 'the verify page says "Check your email"', await heading(phone.page));
    check(await phone.page.locator('#code').isVisible(), 'the verify page has the code field (#code)');
    await shot(phone.page, '01b-verify.png');
    firstVerification = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
  });

  await step('(d) code entry: a wrong code, then the right one; the portal home on a phone', async () => {
    const email = firstVerification;
    console.log(`     verification email: ${path.basename(email.file)} "${email.subject}"`);
    check(email.mtimeMs >= invite.mtimeMs, 'the verification email is newer than the invite email');
    const code = codeIn(email.text);
    check(code !== null, 'the verification email has a 6-digit code', email.text.slice(0, 600));
    check(codeIn(email.html) === code, 'the HTML part shows the same code');
    linkFrom(email, MAGIC_PATH_RE, 'magic');

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await phone.page.locator('#code').fill(wrong);
    await phone.page.getByRole('button', { name: 'Continue', exact: true }).click();
    const error = phone.page.locator('#code-error');
    await error.waitFor();
    const errorText = norm(await error.textContent());
    check(/try \d+ more times?/.test(errorText), 'a wrong code shows an error that says how many tries are left', errorText);
    check(await phone.page.locator('#code').getAttribute('aria-invalid') === 'true', 'the code field is marked aria-invalid after a wrong code');
    check(!pathOnly(phone.page.url()).hasToken, 'the wrong-code page has no token in its address', phone.page.url());
    await shot(phone.page, '01c-wrong-code.png');

    await phone.page.locator('#code').fill(code);
    await phone.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await phone.page.waitForURL((u) => u.pathname === '/');
    const u = pathOnly(phone.page.url());
    check(u.path === '/' && !u.hasToken && !phone.page.url().includes(code), 'the right code lands on the portal home at /, with no token or code in the address', phone.page.url());

    const title = await heading(phone.page);
    check(/onboarding$/.test(title), 'the portal home has its heading ("... onboarding")', title);
    const label = norm(await phone.page.locator('label[for="overall-progress"]').textContent());
    check(/^Overall progress/.test(label), 'the home shows the "Overall progress" label', label);
    const value = Number(await phone.page.locator('progress#overall-progress').getAttribute('value'));
    check(Number.isFinite(value) && value >= 0 && value <= 100, 'the progress bar value is a number from 0 to 100', value);
    const labelPercent = Number(/(\d+)%/.exec(label)?.[1]);
    check(labelPercent === value, `the progress bar value (${value}) matches the label's percentage`, label);

    for (const name of TABS) {
      const tab = phone.page.locator('nav.tabs a').filter({ hasText: name });
      check(await tab.count() === 1, `the "${name}" tab exists`);
      check(/[?&]tab=/.test(await tab.getAttribute('href')), `the "${name}" tab is a link with ?tab=`, await tab.getAttribute('href'));
    }
    const badges = phone.page.locator('.task .badge');
    const badgeTexts = (await badges.allTextContents()).map(norm).filter(Boolean);
    check(badgeTexts.length > 0, `task cards show evidence badges (${[...new Set(badgeTexts)].join(', ')})`);
    const overflow = await sidewaysOverflow(phone.page);
    check(overflow <= 0, 'the portal home fits the phone screen (no sideways scrolling)', `${overflow}px too wide`);
    await shot(phone.page, '02-home-phone.png');

    // axe-core runs in a CSP-ignoring twin context with the same session cookie.
    const axeContext = await axeTwin(phone.context);
    try {
      const axePage = await axeContext.newPage();
      await axePage.goto(`${PORTAL_URL}/`);
      check(/onboarding$/.test(await heading(axePage)), 'the accessibility-check browser shares the signed-in session');
      await axeCheck(axePage, 'the portal home (Your Tasks)');
      await axePage.goto(`${PORTAL_URL}/?tab=progress`);
      await axeCheck(axePage, 'the Our Progress tab');
    } finally {
      await axeContext.close();
    }

    await phone.page.locator('nav.tabs a').filter({ hasText: 'Our Progress' }).click();
    await phone.page.waitForURL((u) => u.search.includes('tab=progress'));
    const current = phone.page.locator('nav.tabs a[aria-current="page"]');
    check(norm(await current.textContent()).startsWith('Our Progress'), 'the "Our Progress" tab opens and is marked as the current one', await current.textContent());
    const panel = norm(await phone.page.locator('#panel-title').textContent());
    check(panel.length > 0, `the progress panel has a heading ("${panel}")`);
    await shot(phone.page, '02b-progress-phone.png');
  });

  let desktop;
  await step('(e) the magic link on a desktop', async () => {
    desktop = await newContext({ viewport: { width: 1280, height: 900 } }, 'desktop');
    const page = desktop.page;
    const opened = await page.goto(inviteUrl.href);
    check(opened?.status() === 200, 'the invite link opens again in a new browser (200)', opened?.status());
    const seen = await seenFiles();
    await page.getByRole('button', { name: 'Send verification email' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/verify'));
    check(true, 'sending again lands on /verify');
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'second verification');
    check(email.mtimeMs >= firstVerification.mtimeMs && email.file !== firstVerification.file, 'a second, newer verification email arrived');
    const magicUrl = linkFrom(email, MAGIC_PATH_RE, 'magic');
    const magicHref = new URL(magicUrl.pathname, `${PORTAL_URL}/`).href;

    const confirm = await page.goto(magicHref);
    check(confirm?.status() === 200, 'the magic link opens a confirmation page (200)', confirm?.status());
    securityHeaders(confirm, 'the token-bearing magic-link page');
    check(await heading(page) === "Confirm it's you", 'the magic-link page asks to confirm ("Confirm it\'s you")', await heading(page));
    const cookies = await desktop.context.cookies();
    check(!cookies.some((c) => c.name.endsWith('portal_session')), 'opening the magic link (GET) does not sign in: no session cookie', cookies.map((c) => c.name));
    const home = await desktop.context.request.get(`${PORTAL_URL}/`, { maxRedirects: 0 });
    check(home.status() === 401, 'the portal home still asks to sign in after only opening the link (401)', home.status());
    const again = await page.reload();
    check(again?.status() === 200 && await heading(page) === "Confirm it's you", 'opening the magic link twice still shows the confirmation (GET does not use it up)', again?.status());
    await shot(page, '03a-magic-confirm.png');

    await page.getByRole('button', { name: 'Continue to the portal' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    check(!pathOnly(page.url()).hasToken, 'confirming lands on the portal home at /, with no token in the address', page.url());
    check(/onboarding$/.test(await heading(page)), 'the desktop browser is signed in to the portal', await heading(page));
    await shot(page, '03-home-desktop.png');

    const used = await page.goto(magicHref);
    check(used?.status() === 404, 'the used magic link now answers 404', used?.status());
    check(/isn't valid/.test(await heading(page)), 'the used magic link shows the "isn\'t valid" page', await heading(page));
    await shot(page, '03b-used-magic-link.png');
  });

  await step('(f) sign out', async () => {
    const page = desktop.page;
    await page.goto(`${PORTAL_URL}/`);
    check(/onboarding$/.test(await heading(page)), 'the desktop browser is still signed in after visiting the used link');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/signed-out'));
    check(await heading(page) === "You're signed out", 'signing out shows "You\'re signed out"', await heading(page));
    const cookies = await desktop.context.cookies();
    check(!cookies.some((c) => c.name.endsWith('portal_session')), 'signing out removes the session cookie', cookies.map((c) => c.name));
    await shot(page, '04-signed-out.png');
    const after = await page.goto(`${PORTAL_URL}/`);
    check(after?.status() === 401, 'the portal home answers 401 after signing out', after?.status());
    check(await heading(page) === 'Please sign in again', 'the portal home says "Please sign in again" after signing out', await heading(page));
    await shot(page, '04b-sign-in-again.png');

    const other = await phone.page.goto(`${PORTAL_URL}/`);
    check(other?.status() === 200 && /onboarding$/.test(await heading(phone.page)), 'signing out on the desktop leaves the phone\'s own session signed in', other?.status());
  });

  await step('(g) nothing broke along the way', async () => {
    const problems = [...phone.watcher.problems, ...desktop.watcher.problems];
    check(problems.length === 0, 'no console errors, CSP violations or failed stylesheet/image loads on any page', problems.join('\n      '));
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the whole journey');
