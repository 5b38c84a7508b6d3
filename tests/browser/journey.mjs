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

  await step('(a2) the demo mailbox shows the invite, decoded, with its link clickable', async () => {
    const mailbox = await newContext({ viewport: { width: 1280, height: 900 } }, 'mailbox');
    try {
      const page = mailbox.page;
      const listed = await page.goto(`${PORTAL_URL}/mailbox`);
      check(listed?.status() === 200 && await heading(page) === 'Emails sent', 'the demo mailbox lists the emails sent (/mailbox)', listed?.status());
      const entry = page.locator('li.mail a').filter({ hasText: invite.subject });
      check(await entry.count() >= 1, `it lists "${invite.subject}"`);
      await entry.first().click();
      await page.waitForURL((u) => u.pathname.endsWith('.eml'));
      check(await heading(page) === invite.subject, 'the email opens with its subject as heading', await heading(page));
      const hrefs = await page.locator('.mail-body a').evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
      check(hrefs.some((h) => INVITE_PATH_RE.test(h)), 'its invite link is a clickable link', hrefs);
      check(!norm(await page.locator('.mail-body').textContent()).includes('=3D'), 'the text is decoded (no quoted-printable left)');
      await shot(page, '01b-mailbox-invite.png');
    } finally {
      await mailbox.context.close();
    }
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
    // The next-step card: one, above the tabs, naming an open task of the list with its
    // button; overdue if any open task of the list is overdue (overdue comes first).
    const next = phone.page.locator('section.next-step');
    check(await next.count() === 1, 'the home has one "Next step" card');
    check(norm(await next.locator('.next-label').textContent()) === 'Next step', 'the card is labelled "Next step"');
    const nextTitle = norm(await next.locator('h2').textContent());
    const nextBox = await next.boundingBox();
    const tabsBox = await phone.page.locator('nav.tabs').boundingBox();
    check(nextBox && tabsBox && nextBox.y < tabsBox.y, 'the card is above the tabs', { nextBox, tabsBox });
    const openCards = phone.page.locator('.panel .phase > ul.tasks > li.task');
    const openTitles = (await openCards.locator('h4').allTextContents()).map(norm);
    check(openTitles.includes(nextTitle), `the card's task "${nextTitle}" is an open task of Your Tasks`, openTitles);
    const anyOverdue = await phone.page.locator('.panel .phase > ul.tasks .due.overdue').count() > 0;
    const nextOverdue = await next.locator('.due.overdue').count() === 1;
    check(anyOverdue === nextOverdue, `the card is overdue exactly when some open task is (${anyOverdue})`);
    check(await phone.page.locator('.task-waiting .overdue').count() === 0, 'no task waiting on the MSP is marked overdue');
    const nextButton = next.locator('a.button');
    check(await nextButton.count() === 1 && /^(Start|Continue)\b/.test(norm(await nextButton.textContent())),
      'the card has a Start/Continue button', await nextButton.count() ? norm(await nextButton.textContent()) : 'none');
    // Completed tasks: collapsed per phase, "N completed", opened without JavaScript.
    const done = phone.page.locator('details.done-tasks');
    check(await done.count() >= 1, `completed tasks are grouped in a collapsed "completed" section (${await done.count()})`);
    const first = done.first();
    check(await first.getAttribute('open') === null, 'the completed tasks start collapsed');
    const summary = norm(await first.locator('summary').textContent());
    const m = /^(\d+) completed\b/.exec(summary);
    check(m !== null, `its summary says how many ("${summary}")`, summary);
    const inside = first.locator('li.task');
    check(await inside.count() === Number(m?.[1]) && !(await inside.first().isVisible()), 'its tasks are counted right and hidden while collapsed');
    await first.locator('summary').tap();
    check(await first.getAttribute('open') !== null && await inside.first().isVisible(), 'tapping the summary shows them (a <details>, no JavaScript)');
    check(await first.locator('.pill-completed').count() === Number(m?.[1]), 'each of them says "Completed"');
    await first.locator('summary').tap();
    // Tabs: one row on the phone (it scrolls sideways inside itself), counts that say what they count.
    const tabTops = await phone.page.locator('nav.tabs li').evaluateAll((lis) => lis.map((li) => Math.round(li.getBoundingClientRect().top)));
    check(tabTops.length === 4 && new Set(tabTops).size === 1, 'the four tabs sit in one row on the phone', tabTops);
    const tasksTab = norm(await phone.page.locator('nav.tabs a').first().textContent());
    check(/^Your Tasks \d+ open$/.test(tasksTab), `the Your Tasks tab counts open tasks in words ("${tasksTab}")`, tasksTab);
    await shot(phone.page, '02a-next-step-phone.png');
    await nextButton.tap();
    await phone.page.waitForURL((u) => /^\/tasks\/[^/]+$/.test(u.pathname));
    check(await heading(phone.page) === nextTitle, `the card's button opens "${nextTitle}"`, await heading(phone.page));
    await phone.page.goto(`${PORTAL_URL}/`);
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
    // One compact row per phase: status, percent done, its tasks behind a <details>.
    const rows = phone.page.locator('ol.timeline > li.phase');
    const facts = (await rows.locator('.phase-facts').allTextContents()).map(norm);
    check(await rows.count() > 0 && facts.length === await rows.count() && facts.every((f) => /^\d+% done \(\d+ of \d+ tasks/.test(f)),
      'every phase row says its percent done and task count', facts);
    const collapsed = await rows.locator('details.phase-tasks:not([open])').count();
    check(collapsed === await rows.locator('details.phase-tasks').count() && collapsed > 0, `each phase's tasks are collapsed (${collapsed})`);
    check(await rows.locator('li.task').first().isVisible() === false, 'no task card shows until a phase is expanded');
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
