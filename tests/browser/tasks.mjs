// The task pages on a phone, in headless Chromium, as a client works through them.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox node tests/browser/tasks.mjs
//
// Signs in through the real flow (the newest invite email in the outbox -> "Send
// verification email" -> the code from the verification email) on a phone (390x844,
// touch), then only taps and types: completes a standard task, checks the meeting and
// downloads its calendar invite, completes a training video, fills in the survey (first
// wrongly, then properly), ticks the checklist, approves the approval, comments on a
// task, asks a question, and checks the home page's progress, timeline and activity
// feed. axe-core runs on every page type in a CSP-ignoring twin context with the same
// cookies. Screenshots go to artifacts/ (10-... to 18-...).
//
// Needs freshly seeded demo data (examples/demo/src/seed.rs): it asserts the progress
// before (2 of 15 tasks) and after (7 of 15). It may run after journey.mjs on the same
// server: the invite link printed at start-up stays valid until the next start.
//
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0) or
// "N passed, 1 failed" (exit 1) after the first failing check.
// Environment: as journey.mjs (PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS).

import path from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE, PHONE,
  check, step, run, launchBrowser, newContext, axeTwin, axeCheck, shot, heading, norm, pathOnly,
  sidewaysOverflow, readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 300_000; // the whole run, as a last resort

// What the demo seed holds (examples/demo/src/seed.rs).
const CONTACT = 'Dana Whitfield';
const MSP_STAFF = 'Priya Natarajan (Bluefin)';
const TOTAL_TASKS = 15; // 4 phases: 4 + 6 + 3 + 2 tasks
const DONE_BEFORE = 2; // "Read the welcome pack" (done by Dana) and "Assign your onboarding team" (done by the MSP); the MSA waits for the client's signature
const T = {
  standard: 'Confirm your office opening hours',
  meeting: 'Kickoff call',
  training: 'Watch: getting help from Bluefin',
  survey: 'Tell us about your environment',
  checklist: 'Prepare workstations for the new agent',
  approval: 'Approve the migration weekend',
};
// This run completes: standard + training + survey + checklist + approval.
const DONE_AFTER = DONE_BEFORE + 5;
const PHASES = ['Kickoff', 'Discovery & access', 'Migration', 'Go-live'];
// After this run every phase has something done and something open: all "In progress",
// and the current phase is the first one not completed.
const PHASE_STATUS_AFTER = { Kickoff: 'In progress', 'Discovery & access': 'In progress', Migration: 'In progress', 'Go-live': 'In progress' };
const CURRENT_PHASE_AFTER = 'Kickoff';
const VIDEO_ORIGIN = 'https://www.youtube-nocookie.com';

const stamp = new Date().toISOString().slice(11, 19);
const NOTES = `Mon–Fri 7:30 am – 6 pm; Sat 8 am – 12 pm. Front desk: ask for Lee. (${stamp})`;
const COMMENT = `Our office manager will join too. Is 45 minutes enough for questions? (${stamp})`;
const QUESTION = `Can you keep our old phone numbers when we move to your VoIP service? (${stamp})`;
const APPROVAL_COMMENT = `That weekend works; please finish by Sunday 6 pm. (${stamp})`;

let phone; // { context, page, watcher }
let twin; // CSP-ignoring context with the same cookies, for axe-core
const visited = {}; // task kind -> task page address

// ----- page helpers ------------------------------------------------------------------

const percentOf = (done, total) => Math.floor((done * 100) / total);

/** The home's progress: the bar's value and the numbers in its label. */
async function progress(page) {
  const label = norm(await page.locator('label[for="overall-progress"]').textContent());
  const value = Number(await page.locator('progress#overall-progress').getAttribute('value'));
  const m = /Overall progress: (\d+)% \((\d+) of (\d+) tasks complete\)/.exec(label);
  check(m !== null, `the progress label reads "Overall progress: N% (N of M tasks complete)" ("${label}")`, label);
  return { label, value, percent: Number(m[1]), done: Number(m[2]), total: Number(m[3]) };
}

/** Back to the portal home by the page's own link (or the address when not on a portal page). */
async function goHome(page) {
  const back = page.getByRole('link', { name: '← Back to your portal' });
  if (await back.count() === 1) {
    await tapAndLoad(page, back, (u) => u.pathname === '/');
  } else {
    await page.goto(`${PORTAL_URL}/`);
  }
  check(/onboarding$/.test(await heading(page)), 'back on the portal home', await heading(page));
}

/** From the home, taps the task's card title; returns the task id. */
async function openTask(page, title, kind) {
  await goHome(page);
  const link = page.locator('.task h4 a').filter({ hasText: title });
  check(await link.count() === 1, `the home lists "${title}" with a link`);
  await tapAndLoad(page, link, (u) => /^\/tasks\/[^/]+$/.test(u.pathname));
  check(await heading(page) === title, `tapping the card opens the task page "${title}"`, await heading(page));
  const overflow = await sidewaysOverflow(page);
  check(overflow <= 0, `the "${title}" page fits the phone screen (no sideways scrolling)`, `${overflow}px too wide`);
  const id = new URL(page.url()).pathname.split('/').pop();
  visited[kind] = `${PORTAL_URL}/tasks/${id}`;
  return id;
}

/**
 * Taps `button` and waits until a new document whose address matches `pred` has loaded
 * (a new one: the address may equal the current one, e.g. `?done=checked` twice).
 */
async function tapAndLoad(page, button, pred) {
  const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && pred(new URL(f.url())) });
  await button.tap();
  await committed;
  await page.waitForLoadState('load');
}

/** Taps a submit button and waits for the redirect to `?done=<done>`. */
async function submit(page, button, done) {
  await tapAndLoad(page, button, (u) => u.searchParams.get('done') === done);
}

async function notice(page) {
  const n = page.locator('p.notice[role="status"]');
  return (await n.count()) ? norm(await n.first().textContent()) : '';
}

async function taskStatus(page) {
  return norm(await page.locator('.task-page .meta .pill').first().textContent());
}

async function expectNotice(page, text) {
  const got = await notice(page);
  check(got === text, `the page confirms: "${text}"`, got);
}

/**
 * A check for a page problem that is reported but not fixed yet: passes as usual when
 * it holds; otherwise prints a "known problem" line (not counted) and carries on.
 */
const knownProblems = [];
function knownProblem(ok, message, detail) {
  if (ok) {
    check(true, message);
  } else {
    knownProblems.push(message);
    console.log(`  KNOWN PROBLEM (not counted) - ${message}\n      ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

/** Runs axe-core on `url` in the twin context. */
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

// ----- iCalendar ---------------------------------------------------------------------

/** Unfolds RFC 5545 content lines into { name, params, value } (name upper-cased). */
function icsProperties(text) {
  const unfolded = text.replace(/\r\n[ \t]/g, '').split('\r\n').filter((l) => l !== '');
  return unfolded.map((line) => {
    const colon = line.indexOf(':');
    const [name, ...params] = line.slice(0, colon).split(';');
    return { name: name.toUpperCase(), params, value: line.slice(colon + 1) };
  });
}

/** A UTC date-time ("20261130T150000Z") as a Date; null for floating or TZID-local times. */
function icsUtc(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// ----- the run -----------------------------------------------------------------------

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
    const inviteUrl = linkFrom(invite, INVITE_PATH_RE, 'invite');
    phone = await newContext(PHONE, 'phone', { ignoreOrigins: [VIDEO_ORIGIN] });
    const page = phone.page;
    const opened = await page.goto(inviteUrl.href);
    check(opened?.status() === 200, 'the newest invite link opens the invite page (200)', opened?.status());
    const seen = await seenFiles();
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith('/verify')),
      page.getByRole('button', { name: 'Send verification email' }).tap(),
    ]);
    check(await heading(page) === 'Check your email', 'tapping "Send verification email" asks for the code');
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
    const code = codeIn(email.text);
    check(code !== null, 'the verification email has a 6-digit code');
    await page.locator('#code').fill(code);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.getByRole('button', { name: 'Continue', exact: true }).tap(),
    ]);
    check(/onboarding$/.test(await heading(page)) && !pathOnly(page.url()).hasToken, 'the code signs in: the portal home, no token in the address', page.url());
    const signedIn = norm(await page.locator('.signed-in').textContent());
    check(signedIn === `Signed in as ${CONTACT}`, `signed in as ${CONTACT}`, signedIn);

    const p = await progress(page);
    check(p.done === DONE_BEFORE && p.total === TOTAL_TASKS,
      `before: ${DONE_BEFORE} of ${TOTAL_TASKS} tasks complete, as seeded (this script needs fresh demo data)`, p.label);
    check(p.value === percentOf(DONE_BEFORE, TOTAL_TASKS) && p.percent === p.value,
      `before: the bar is at ${percentOf(DONE_BEFORE, TOTAL_TASKS)}% and the label agrees`, p);

    twin = await axeTwin(phone.context);
  });

  await step('(1) standard task: notes, then Mark Complete', async () => {
    const page = phone.page;
    await openTask(page, T.standard, 'standard');
    check(await taskStatus(page) === 'Pending', 'the task starts as Pending', await taskStatus(page));
    await axeOn(page.url(), 'a standard task page (with its form)');
    await page.getByLabel('Notes or evidence').fill(NOTES);
    await submit(page, page.getByRole('button', { name: 'Mark Complete' }), 'completed');
    await expectNotice(page, 'Marked complete. Thank you!');
    const done = norm(await page.locator('.interaction .done').textContent());
    check(done.startsWith(`✓ Completed by ${CONTACT} on `), `the page shows "Completed by ${CONTACT} on …"`, done);
    check(norm(await page.locator('.interaction .description').textContent()) === norm(NOTES), 'the typed notes are shown with the completion');
    check(await taskStatus(page) === 'Completed', 'the task status is now Completed', await taskStatus(page));
    check(await page.getByRole('button', { name: 'Mark Complete' }).count() === 0, 'the Mark Complete button is gone');
    await shot(page, '10-standard.png');
  });

  await step('(2) meeting: when, zone, duration, Join Meeting, calendar invite', async () => {
    const page = phone.page;
    const id = await openTask(page, T.meeting, 'meeting');
    await axeOn(page.url(), 'a meeting task page');
    const facts = page.locator('dl.facts');
    const when = norm(await facts.locator('dt:text-is("When") + dd').textContent());
    console.log(`     When: ${when}`);
    check(/\b(CST|CDT)\b/.test(when) && when.includes('(America/Chicago)'),
      'the time is shown with its zone abbreviation (CST/CDT) and name (America/Chicago)', when);
    const times = /(\d{1,2}:\d{2} [AP]M) – (\d{1,2}:\d{2} [AP]M)/.exec(when);
    check(times !== null, 'the time is shown as a start – end range', when);
    const duration = norm(await facts.locator('dt:text-is("Duration") + dd').textContent());
    check(duration === '45 minutes', 'the duration is shown ("45 minutes")', duration);
    const join = page.getByRole('link', { name: 'Join Meeting' });
    check(await join.count() === 1, 'there is a "Join Meeting" link');
    const joinHref = await join.getAttribute('href');
    check(/^https:\/\//.test(joinHref || ''), `the Join Meeting link is https (${joinHref})`, joinHref);
    check(await join.getAttribute('target') === '_blank' && /noopener/.test(await join.getAttribute('rel') || ''),
      'the Join Meeting link opens in a new tab without an opener');

    const invite = page.getByRole('link', { name: 'Download Calendar Invite' });
    check(await invite.count() === 1, 'there is a "Download Calendar Invite" link');
    const icsHref = new URL(await invite.getAttribute('href'), page.url());
    check(icsHref.pathname === `/tasks/${id}/invite.ics`, `it points at /tasks/${id}/invite.ics`, icsHref.pathname);
    const [download] = await Promise.all([page.waitForEvent('download'), invite.tap()]);
    const failure = await download.failure();
    check(failure === null, `tapping it downloads a file ("${download.suggestedFilename()}")`, failure);
    check(/\.ics$/.test(download.suggestedFilename()), 'the download is an .ics file', download.suggestedFilename());
    const bytes = await readFile(await download.path());
    const ics = bytes.toString('utf-8');
    const res = await phone.context.request.get(icsHref.href);
    check(res.status() === 200 && /^text\/calendar/.test(res.headers()['content-type'] || ''),
      'the invite is served as text/calendar to the signed-in browser', `${res.status()} ${res.headers()['content-type']}`);
    check(/^attachment/.test(res.headers()['content-disposition'] || ''), 'the invite is sent as an attachment', res.headers()['content-disposition']);

    check(ics.startsWith('BEGIN:VCALENDAR\r\n') && ics.trimEnd().endsWith('END:VCALENDAR'), 'the file is a VCALENDAR (BEGIN:VCALENDAR … END:VCALENDAR)', ics.slice(0, 200));
    const rawLines = ics.split('\r\n');
    check(!/[^\r]\n/.test(ics) && ics.endsWith('\r\n'), 'every line ends with CRLF');
    const long = rawLines.filter((l) => Buffer.byteLength(l, 'utf-8') > 75);
    check(long.length === 0, 'every line is at most 75 octets (long lines are folded)', long);
    const props = icsProperties(ics);
    const prop = (name) => props.find((x) => x.name === name);
    check(prop('BEGIN')?.value === 'VCALENDAR' && props.some((x) => x.name === 'BEGIN' && x.value === 'VEVENT'), 'it holds a VEVENT');
    check(prop('UID')?.value === `${id}@msp-client-portal`, `UID is the task's (${id}@msp-client-portal)`, prop('UID')?.value);
    check(/^\d+$/.test(prop('SEQUENCE')?.value || ''), `it has a SEQUENCE (${prop('SEQUENCE')?.value})`, prop('SEQUENCE'));
    check(prop('SUMMARY')?.value === T.meeting, `SUMMARY:${T.meeting}`, prop('SUMMARY'));
    const dtstart = prop('DTSTART');
    check(Boolean(dtstart), `it has a DTSTART (${dtstart ? [dtstart.name, ...dtstart.params].join(';') + ':' + dtstart.value : 'none'})`);
    const start = icsUtc(dtstart.value);
    if (!start) console.log(`     note: DTSTART is not in UTC (${dtstart.value}); its time is not compared with the page`);
    if (start) {
      const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Chicago', hour: 'numeric', minute: '2-digit', hour12: true }).format(start);
      check(local.replace(/\u202f/g, ' ') === times[1], `DTSTART (${dtstart.value}) is the page's start time in Chicago (${times[1]})`, local);
    }
    check(ics.replace(/\r\n[ \t]/g, '').includes(joinHref), 'the invite carries the Join Meeting address', ics);
    await shot(page, '11-meeting.png');
  });

  await step('(3) training: the embedded video, then Mark Complete', async () => {
    const page = phone.page;
    await openTask(page, T.training, 'training');
    await axeOn(page.url(), 'a training task page');
    const frame = page.locator('.video iframe');
    check(await frame.count() === 1, 'the page embeds one video frame');
    const src = await frame.getAttribute('src');
    check(src?.startsWith(`${VIDEO_ORIGIN}/embed/`), `the frame plays from ${VIDEO_ORIGIN}/embed/ (${src})`, src);
    check(Boolean(await frame.getAttribute('title')), `the frame has a title ("${await frame.getAttribute('title')}")`);
    const box = await frame.boundingBox();
    check(box && box.width <= 390 && box.width >= 300 && Math.abs(box.width / box.height - 16 / 9) < 0.1,
      `the video is phone-wide at 16:9 (${box && `${Math.round(box.width)}x${Math.round(box.height)}`})`, box);
    // Where the player cannot load (a blocked site, no JavaScript), the video opens on its
    // own site from a link that is always under the player.
    const watch = page.locator('.video-link a');
    const href = await watch.getAttribute('href');
    check(await watch.isVisible() && /^https:\/\/(www\.)?(youtube\.com\/watch\?v=|vimeo\.com\/)/.test(href || ''),
      `a link under the player opens the video on its site (${href})`, href);
    check(await watch.getAttribute('target') === '_blank' && /noopener/.test(await watch.getAttribute('rel') || ''),
      'it opens in a new tab without handing over the portal window');
    // Printed, the task keeps its content and drops the controls and navigation.
    await page.emulateMedia({ media: 'print' });
    const printed = {
      nav: await page.locator('.portal-nav').first().isVisible().catch(() => false),
      button: await page.getByRole('button', { name: 'Mark Complete' }).isVisible(),
      player: await page.locator('.video').isVisible(),
      title: await page.locator('h1').isVisible(),
    };
    await page.emulateMedia({ media: 'screen' });
    check(!printed.nav && !printed.button && !printed.player && printed.title,
      'printed, the page keeps the title and hides the navigation, buttons and player', JSON.stringify(printed));
    await submit(page, page.getByRole('button', { name: 'Mark Complete' }), 'completed');
    await expectNotice(page, 'Marked complete. Thank you!');
    const done = norm(await page.locator('.interaction .done').textContent());
    check(done.startsWith(`✓ Completed by ${CONTACT} on `), `the page shows "Completed by ${CONTACT} on …"`, done);
    check(await taskStatus(page) === 'Completed', 'the task status is now Completed', await taskStatus(page));
    await shot(page, '12-training.png');
  });

  await step('(4) survey: a wrong submit keeps the answers; then Save draft and Submit', async () => {
    const page = phone.page;
    await openTask(page, T.survey, 'survey');
    await axeOn(page.url(), 'a survey task page (empty form)');
    {
      // The refused form's error state, in the twin: submitting nothing saves nothing.
      const twinPage = await twin.newPage();
      try {
        await twinPage.goto(page.url());
        const [r] = await Promise.all([
          twinPage.waitForResponse((x) => x.request().method() === 'POST' && x.url().endsWith('/form')),
          twinPage.waitForURL((u) => u.pathname.endsWith('/form')),
          twinPage.getByRole('button', { name: 'Submit', exact: true }).click(),
        ]);
        check(r.status() === 422, 'an empty Submit is refused (422) in the accessibility-check browser', r.status());
        await axeCheck(twinPage, 'the survey page with its error messages');
      } finally {
        await twinPage.close();
      }
    }
    const sites = page.getByLabel('How many office locations do you have?');
    const pain = page.getByLabel('What IT problems slow your team down today?');
    const group = (prompt) => page.getByRole('group', { name: new RegExp(`^${prompt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) });
    const email = group('Where is your email hosted?');
    const apps = group('Which line-of-business apps do you use?');
    const rating = group('How happy are you with your current IT support?');
    check(await sites.getAttribute('maxlength') === '100', 'the short answer field has maxlength 100');

    const tooLong = `Three: Main Street, Riverside and the new Oak Park clinic that opens in spring ${'—'.repeat(40)}`;
    await sites.fill(tooLong);
    const kept = await sites.inputValue();
    const overlong = [...kept].length > 100;
    if (overlong) {
      check(true, `the short answer holds ${[...kept].length} characters (over the 100 limit)`);
    } else {
      console.log(`     note: the browser keeps the short answer to ${[...kept].length} characters (maxlength), so the over-long case is not tried`);
    }
    const painText = 'Printers drop off the network; the X-ray PC is slow after updates.';
    await pain.fill(painText);
    await apps.getByRole('checkbox', { name: 'Dentrix' }).check();
    // The email host (required) and the rating (required) stay empty.
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/form')),
      tapAndLoad(page, page.getByRole('button', { name: 'Submit', exact: true }), (u) => u.pathname.endsWith('/form')),
    ]);
    check(res.status() === 422, 'the incomplete form is refused (422), not saved', res.status());
    const alerts = page.locator('.task-page .alert[role="alert"]');
    check(await alerts.count() === 1, 'one alert (role="alert") on the page', await alerts.count());
    const alert = norm(await alerts.textContent());
    check(/^Please fix the answers marked below\. Your answers are kept\.$/.test(alert), 'the page says what to do ("Please fix the answers marked below …")', alert);
    const fieldError = async (id) => {
      const el = page.locator(`#q-${id}-error`);
      return (await el.count()) ? norm(await el.textContent()) : null;
    };
    check(await fieldError('email') === 'This question needs an answer.', 'the email-host question says "This question needs an answer."', await fieldError('email'));
    check(await fieldError('satisfaction') === 'This question needs an answer.', 'the rating question says "This question needs an answer."', await fieldError('satisfaction'));
    check(await email.getAttribute('aria-describedby') === 'q-email-error', 'the email-host group points at its error (aria-describedby)');
    if (overlong) {
      check(/^Keep it to 100 characters/.test(await fieldError('sites') || ''), 'the short answer says "Keep it to 100 characters …"', await fieldError('sites'));
      check(await sites.getAttribute('aria-invalid') === 'true' && await sites.getAttribute('aria-describedby') === 'q-sites-error',
        'the short answer is marked aria-invalid and points at its error');
    } else {
      check(await fieldError('sites') === null, 'the (accepted) short answer has no error');
    }
    check(await fieldError('pain') === null && await fieldError('apps') === null, 'the optional questions have no error');
    check(await sites.inputValue() === kept, 'the typed short answer is kept');
    check(await pain.inputValue() === painText, 'the typed long answer is kept');
    check(await apps.getByRole('checkbox', { name: 'Dentrix' }).isChecked(), 'the ticked checkbox (Dentrix) is kept');
    check(await taskStatus(page) === 'Pending', 'the task is still Pending', await taskStatus(page));
    await shot(page, '13-survey-errors.png');

    await sites.fill('Three');
    await email.getByRole('radio', { name: 'Microsoft 365' }).check();
    await apps.getByRole('checkbox', { name: 'QuickBooks' }).check();
    await submit(page, page.getByRole('button', { name: 'Save draft' }), 'saved');
    await expectNotice(page, 'Draft saved. You can come back and submit it later.');
    check(await sites.inputValue() === 'Three' && await pain.inputValue() === painText
      && await email.getByRole('radio', { name: 'Microsoft 365' }).isChecked()
      && await apps.getByRole('checkbox', { name: 'Dentrix' }).isChecked()
      && await apps.getByRole('checkbox', { name: 'QuickBooks' }).isChecked(),
    'the saved draft shows every answer again');
    check(await page.getByText(/^Draft saved .+ Submit when you're done\.$/).count() === 1, 'the form says when the draft was saved');

    await rating.getByRole('radio', { name: '4', exact: true }).check();
    await submit(page, page.getByRole('button', { name: 'Submit', exact: true }), 'submitted');
    await expectNotice(page, 'Form submitted. Thank you!');
    const done = norm(await page.locator('.interaction .done').textContent());
    check(done.startsWith(`✓ Submitted by ${CONTACT} on `), `the page shows "Submitted by ${CONTACT} on …"`, done);
    check(await taskStatus(page) === 'Completed', 'the task status is now Completed', await taskStatus(page));
    // Once submitted, the answers are shown as text, no longer as form controls.
    const answers = page.locator('dl.answers');
    const answerTo = async (prompt) => norm(await answers.locator('dt', { hasText: prompt }).locator('xpath=following-sibling::dd[1]').textContent());
    check(await answers.count() === 1 && await page.locator('form.survey').count() === 0, 'the submitted form shows its answers read-only');
    check(await answerTo('How happy are you') === '4', 'the submitted rating (4) is shown', await answerTo('How happy are you'));
    check(await answerTo('Which line-of-business apps') === 'Dentrix, QuickBooks', 'the submitted choices are shown', await answerTo('Which line-of-business apps'));
    check(await answerTo('Where is your email hosted') === 'Microsoft 365', 'the submitted single choice is shown', await answerTo('Where is your email hosted'));
    await shot(page, '14-survey.png');
  });

  await step('(5) checklist: one item ticked by the MSP; Check the other two', async () => {
    const page = phone.page;
    await openTask(page, T.checklist, 'checklist');
    await axeOn(page.url(), 'a checklist task page');
    const count = async () => norm(await page.locator('.interaction > p strong').first().textContent());
    check(await count() === '1 of 3', 'the checklist starts at "1 of 3"', await count());
    const byMsp = page.locator('.checklist li.checked');
    check(await byMsp.count() === 1 && norm(await byMsp.textContent()).includes(`Checked by ${MSP_STAFF}`),
      `the ticked item says "Checked by ${MSP_STAFF}"`, await byMsp.count() === 1 ? norm(await byMsp.textContent()) : await byMsp.count());
    for (const label of ['Send us the list of staff who need a device', 'Save local files to OneDrive']) {
      const button = page.getByRole('button', { name: `Check ${label}`, exact: true });
      check(await button.count() === 1, `"${label}" has a Check button (named after the item)`);
      await submit(page, button, 'checked');
      await expectNotice(page, 'Item checked.');
      const li = page.locator('.checklist li').filter({ hasText: label });
      check(norm(await li.textContent()).includes(`Checked by ${CONTACT}`), `"${label}" now says "Checked by ${CONTACT}"`, norm(await li.textContent()));
    }
    check(await count() === '3 of 3', 'the checklist shows "3 of 3"', await count());
    check(await page.locator('progress.small').getAttribute('value') === '3', 'the checklist bar is full (3 of 3)');
    check(await taskStatus(page) === 'Completed', 'the task status is now Completed', await taskStatus(page));
    await shot(page, '15-checklist.png');
  });

  await step('(6) approval: a comment, then Approve; the Approvals tab', async () => {
    const page = phone.page;
    await openTask(page, T.approval, 'approval');
    await axeOn(page.url(), 'an approval task page (with its form)');
    // The plan is a real PDF the MSP shared: the decision waits until it was opened.
    const shared = page.locator('.shared-docs li').filter({ hasText: 'Migration plan.pdf' });
    check(await shared.count() === 1, 'the shared document (Migration plan.pdf) is listed on the task');
    check(norm(await shared.locator('.pill').textContent()) === 'Not opened yet', 'it reads "Not opened yet"', norm(await shared.locator('.pill').textContent()));
    check(norm(await page.locator('#open-first').textContent()).startsWith('Open the document before you decide.'), 'the page says to open the document before deciding');
    check(await page.getByRole('button', { name: 'Approve', exact: true }).isDisabled(), 'Approve is disabled until the document is opened');
    const opened = page.context().waitForEvent('response', (r) => r.url().includes('/shared/') && !r.url().includes('download'));
    await shared.getByRole('link', { name: 'Open Migration plan.pdf' }).click();
    const served = await opened;
    check(served.status() === 200 && served.headers()['content-type'] === 'application/pdf', 'Open serves the PDF', `${served.status()} ${served.headers()['content-type']}`);
    // Headless Chromium hands an inline PDF to a download, whose body the response
    // event cannot read: fetch the same address again for the bytes.
    const body = await (await page.request.get(served.url())).body();
    check(body.subarray(0, 5).toString() === '%PDF-', 'the bytes served are a PDF');
    for (const other of page.context().pages()) if (other !== page) await other.close();
    await page.reload();
    check(norm(await shared.locator('.pill').textContent()) === 'Opened', 'after opening, the document reads "Opened"', norm(await shared.locator('.pill').textContent()));
    check(await page.locator('#open-first').count() === 0, 'the open-first note is gone');
    await page.getByLabel('Comment (optional)').fill(APPROVAL_COMMENT);
    await submit(page, page.getByRole('button', { name: 'Approve', exact: true }), 'approved');
    await expectNotice(page, 'Approved. Your decision has been recorded.');
    const done = norm(await page.locator('.interaction .done').textContent());
    // The decision is a record: the page names the contact with their address.
    check(new RegExp(`^✓ Approved by ${CONTACT} \\([^)]+@[^)]+\\) on `).test(done), `the page shows "Approved by ${CONTACT} …" (${done})`, done);
    check(norm(await page.locator('.interaction .description').textContent()) === APPROVAL_COMMENT, 'the approval comment is shown');
    const decidedOn = norm(await page.locator('.task-page').textContent());
    check(/Decided on Migration plan\.pdf \(SHA-256 [0-9a-f]{64}\)/.test(decidedOn), 'the decision records the document it was taken on, with its SHA-256');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, 'the decided approval fits the phone\'s width (the 64-digit hash wraps)', `${overflow} px too wide`);
    check(await page.getByRole('button', { name: 'Reject' }).count() === 0, 'the Approve/Reject buttons are gone');
    check(await taskStatus(page) === 'Completed', 'the task status is now Completed', await taskStatus(page));
    await shot(page, '16-approval.png');

    await goHome(page);
    await tapAndLoad(page, page.locator('nav.tabs a').filter({ hasText: 'Approvals' }), (u) => u.searchParams.get('tab') === 'approvals');
    const card = page.locator('.task').filter({ hasText: T.approval });
    check(await card.count() === 1, 'the Approvals tab lists the approval');
    const text = norm(await card.textContent());
    console.log(`     Approvals card: ${text}`);
    check(/Completed/.test(text), 'the Approvals tab shows it as Completed', text);
    check(/\bApproved\b/.test(text), 'the Approvals tab shows the outcome (Approved)', text);
    await shot(page, '16b-approvals-tab.png');
  });

  await step('(7) a comment on the Kickoff call', async () => {
    const page = phone.page;
    await openTask(page, T.meeting, 'meeting');
    const thread = page.locator('ul.thread li.message');
    const before = await thread.count();
    check(before >= 1 && norm(await thread.first().textContent()).startsWith(MSP_STAFF), `the MSP's seeded comment is in the thread (${before})`);
    await page.getByLabel('Add a comment').fill(COMMENT);
    await submit(page, page.getByRole('button', { name: 'Post comment' }), 'commented');
    await expectNotice(page, 'Comment posted.');
    check(await thread.count() === before + 1, 'the thread has one more comment');
    const mine = thread.filter({ hasText: COMMENT });
    check(await mine.count() === 1 && norm(await mine.locator('.meta strong').textContent()) === CONTACT,
      `the comment appears in the thread under ${CONTACT}`);
    check(await page.getByLabel('Add a comment').inputValue() === '', 'the comment box is empty again');
    await shot(page, '16c-comment.png');
  });

  await step('(8) Ask a Question from the header', async () => {
    const page = phone.page;
    const ask = page.locator('nav.portal-nav').getByRole('link', { name: 'Ask a Question' });
    check(await ask.count() === 1, 'the header has an "Ask a Question" link');
    await tapAndLoad(page, ask, (u) => u.pathname === '/questions');
    check(await heading(page) === 'Ask a Question', 'it opens the "Ask a Question" page', await heading(page));
    visited.questions = `${PORTAL_URL}/questions`;
    await page.getByLabel('Your question').fill(QUESTION);
    await submit(page, page.getByRole('button', { name: 'Send question' }), 'asked');
    await expectNotice(page, 'Question sent. Your onboarding team will answer here.');
    const item = page.locator('ul.thread li.message').filter({ hasText: QUESTION });
    check(await item.count() === 1, 'the question is listed');
    const text = norm(await item.textContent());
    check(text.startsWith(CONTACT) && text.includes('Waiting for an answer.'), `it is listed under ${CONTACT}, "Waiting for an answer."`, text);
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the questions page fits the phone screen', `${overflow}px too wide`);
    await shot(page, '17-questions.png');
  });

  await step('(9) the home page afterwards: progress, timeline, activity', async () => {
    const page = phone.page;
    await goHome(page);
    const p = await progress(page);
    const expected = percentOf(DONE_AFTER, TOTAL_TASKS);
    check(p.done === DONE_AFTER && p.total === TOTAL_TASKS, `after: ${DONE_AFTER} of ${TOTAL_TASKS} tasks complete`, p.label);
    check(p.value === expected && p.percent === expected, `after: the bar is at ${expected}% and the label says ${expected}%`, p);
    const feed = (await page.locator('.activity .feed li span').allTextContents()).map(norm);
    console.log(`     activity: ${feed.slice(0, 10).join(' | ')}`);
    for (const line of [
      `${CONTACT} completed “${T.standard}”`,
      `${CONTACT} completed “${T.training}”`,
      `${CONTACT} completed “${T.survey}”`,
      `${CONTACT} checked an item on “${T.checklist}”`,
      `${CONTACT} approved “${T.approval}”`,
      `${CONTACT} commented on “${T.meeting}”`,
    ]) {
      check(feed.includes(line), `the activity feed lists "${line}"`, feed);
    }
    check(feed.some((l) => l.startsWith(`${CONTACT} asked a question: “`)), `the activity feed lists "${CONTACT} asked a question: …"`, feed);
    await shot(page, '18-home-after.png');

    await tapAndLoad(page, page.locator('nav.tabs a').filter({ hasText: 'Our Progress' }), (u) => u.searchParams.get('tab') === 'progress');
    const phases = page.locator('ol.timeline > li.phase');
    check(await phases.count() === PHASES.length, `the Our Progress timeline has ${PHASES.length} phases`, await phases.count());
    const current = [];
    for (let i = 0; i < PHASES.length; i++) {
      const h3 = phases.nth(i).locator('h3');
      const status = norm(await h3.locator('.pill').first().textContent());
      const text = norm(await h3.textContent());
      check(text.includes(PHASES[i]) && status === PHASE_STATUS_AFTER[PHASES[i]], `phase ${i + 1} "${PHASES[i]}" shows "${PHASE_STATUS_AFTER[PHASES[i]]}"`, text);
      if (await h3.locator('.pill-current').count()) current.push(PHASES[i]);
    }
    check(current.length === 1 && current[0] === CURRENT_PHASE_AFTER, `exactly one "Current phase" marker, on "${CURRENT_PHASE_AFTER}"`, current);
    check(await page.getByText('Current phase', { exact: true }).count() === 1, 'the words "Current phase" appear once on the page');
    const overflow = await sidewaysOverflow(page);
    check(overflow <= 0, 'the Our Progress tab fits the phone screen', `${overflow}px too wide`);
    await shot(page, '18b-progress-after.png');
  });

  await step('(10) axe-core on every page type, after the changes', async () => {
    for (const [kind, url] of Object.entries(visited)) {
      await axeOn(url, kind === 'questions' ? 'the questions page' : `the ${kind} task page (done)`);
    }
    await axeOn(`${PORTAL_URL}/?tab=progress`, 'the Our Progress tab');
    await axeOn(`${PORTAL_URL}/?tab=approvals`, 'the Approvals tab');
  });

  await step('(11) nothing broke along the way', async () => {
    const problems = phone.watcher.problems;
    for (const e of phone.watcher.expected) console.log(`     expected (ignored): ${e}`);
    check(problems.length === 0, `no console errors, CSP violations or failed loads on any page (load failures from ${VIDEO_ORIGIN} aside)`, problems.join('\n      '));
    await twin.close();
    if (knownProblems.length) console.log(`\nknown page problems (reported, not counted):\n  - ${knownProblems.join('\n  - ')}`);
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the task pages run');
