// WCAG 2.2 AA beyond axe-core, in headless Chromium (issue 14's quality bar):
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/a11y.mjs
//
// (1) The main journey with the keyboard only (no mouse, no tap): from the invite link,
//     Tab to "Send verification email" and press Enter; type the emailed code and press
//     Enter; Tab to a task on the home page and press Enter; Tab to "Mark Complete" and
//     press Enter. Every element that takes focus on the way shows a visible focus
//     indicator (an outline or a ring at least 2 px wide).
// (2) Target size (2.5.8): every button, form control, tab, disclosure and stand-alone
//     link on the main pages is at least 24 x 24 CSS px (links inside a sentence are the
//     criterion's inline exception and are not measured).
// (3) Reflow (1.4.10): at 320 CSS px wide, and at 200 % zoom of a 1280 px window (640
//     CSS px), no page scrolls sideways and no text is cut off by its box.
// (4) Contrast of text in the accent color (1.4.3): staff set a light accent (yellow)
//     through the admin API; the buttons and the current-phase mark keep at least 4.5:1
//     between text and background; the accent is then set back.
// With README_SHOTS=DIR it also writes DIR/home-phone.png and DIR/home-desktop.png, the
// README's two screenshots (run by hand after a change to the home page).
// Run against a freshly seeded demo: it signs Dana in once more, and the policy allows
// 10 verification emails per contact an hour.
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).

import path from 'node:path';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, INVITE_PATH_RE, PHONE, ARTIFACTS,
  check, step, run, launchBrowser, newContext, shot, heading, norm,
  readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
  api,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 300_000;
const API_KEY = process.env.API_KEY;
const README_SHOTS = process.env.README_SHOTS;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const TASK = 'Confirm your office opening hours';
const MAX_TABS = 80;

let desktop;
const pages = {};

/** What has focus now, and whether its focus indicator can be seen. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    const ring = s.boxShadow && s.boxShadow !== 'none';
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.id || el.tagName).replace(/\s+/g, ' ').trim();
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      type: el.getAttribute('type') || '',
      text: text.slice(0, 60),
      visible: outline || Boolean(ring),
    };
  });
}

/**
 * Presses Tab until `want(focus)` holds; fails after MAX_TABS. Every stop on the way is
 * recorded in `stops` so the caller can check each one's focus indicator.
 */
async function tabTo(page, want, what, stops) {
  for (let i = 0; i < MAX_TABS; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f) stops.push(f);
    if (f && want(f)) return f;
  }
  check(false, `Tab reaches ${what} within ${MAX_TABS} presses`);
  return null;
}

/** Presses Enter and waits for the next page that matches `pred` to load. */
async function enterAndLoad(page, pred) {
  await Promise.all([page.waitForURL(pred), page.keyboard.press('Enter')]);
  await page.waitForLoadState('load');
}

/** Prints every finding first (so one run shows them all), then checks each. */
function report(results) {
  for (const [what, problems] of results) {
    if (problems.length) console.log(`     ${what}: ${problems.join('; ')}`);
  }
  for (const [what, problems] of results) check(problems.length === 0, what, problems.join('; '));
}

function checkIndicators(stops, where) {
  const hidden = stops.filter((f) => !f.visible);
  check(stops.length > 0 && hidden.length === 0,
    `${where}: each of the ${stops.length} elements Tab stops at shows a visible focus indicator`,
    hidden.map((f) => `${f.tag}${f.id ? `#${f.id}` : ''} "${f.text}"`).join('; '));
}

/** Interactive elements smaller than 24 x 24 CSS px (inline links in text skipped). */
async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=tab]';
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      // Not rendered: inside a closed <details>, hidden, or without a box.
      if (!el.checkVisibility({ visibilityProperty: true }) || (r.width === 0 && r.height === 0)) continue;
      const s = getComputedStyle(el);
      // 2.5.8's inline exception: a link that sits inside a line of text.
      if (el.tagName === 'A' && s.display === 'inline') {
        const parentText = (el.parentElement?.innerText || '').replace(/\s+/g, ' ').trim();
        const own = (el.innerText || '').replace(/\s+/g, ' ').trim();
        if (parentText.length > own.length + 1) continue;
      }
      // A checkbox or radio whose label is the target: the label's box counts.
      let box = r;
      if ((el.type === 'checkbox' || el.type === 'radio') && el.labels?.length) {
        const lr = el.labels[0].getBoundingClientRect();
        if (lr.height >= box.height) box = { width: Math.max(lr.width, box.width), height: lr.height };
      }
      // A visually hidden file input behind its drop zone: the zone is the target.
      if (el.type === 'file' && (r.width < 2 || r.height < 2)) continue;
      if (box.width < 24 || box.height < 24) {
        const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || el.id || '').replace(/\s+/g, ' ').trim();
        out.push(`${el.tagName.toLowerCase()} "${name.slice(0, 40)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
    return out;
  });
}

/** Sideways overflow of the page, and text boxes that clip their own text. */
async function reflowProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) problems.push(`the page is ${doc.scrollWidth - doc.clientWidth}px too wide`);
    for (const el of document.querySelectorAll('body *')) {
      const s = getComputedStyle(el);
      if (s.display === 'none' || s.visibility === 'hidden') continue;
      // A box that scrolls on purpose (the tab row) is allowed; one that hides what
      // does not fit cuts text off.
      const clips = (s.overflowX === 'hidden' || s.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 1;
      // Text hidden on purpose for screen readers (a 1 px clipped box) is not cut off.
      const srOnly = el.classList.contains('visually-hidden') || el.clientWidth <= 1;
      if (clips && !srOnly && (el.innerText || '').trim() && !el.classList.contains('skip')) {
        problems.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} cuts off text`);
      }
    }
    return problems;
  });
}

/** WCAG contrast ratio of two CSS rgb()/rgba() colors. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

async function colorsOf(page, selector) {
  return page.locator(selector).evaluateAll((els) => els
    .filter((el) => el.getBoundingClientRect().width > 0)
    .map((el) => {
      const s = getComputedStyle(el);
      return { text: (el.innerText || '').replace(/\s+/g, ' ').trim().slice(0, 30), color: s.color, background: s.backgroundColor };
    }));
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  await launchBrowser();

  await step('(1) the journey with the keyboard only: invite, code, a task, Mark Complete', async () => {
    const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text));
    check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
    const invite = invites[invites.length - 1];
    console.log(`     newest invite: ${path.basename(invite.file)}`);
    desktop = await newContext(DESKTOP, 'desktop (keyboard)');
    const page = desktop.page;
    const opened = await page.goto(linkFrom(invite, INVITE_PATH_RE, 'invite').href);
    check(opened?.status() === 200, 'the invite page opens (200)', opened?.status());

    const stops = [];
    const first = await tabTo(page, () => true, 'the first focusable element', stops);
    check(first && /skip/i.test(first.text), 'the first Tab stop is the "skip to content" link', first?.text);
    await tabTo(page, (f) => f.tag === 'button' && /Send verification email/.test(f.text), 'Send verification email', stops);
    const seen = await seenFiles();
    await enterAndLoad(page, (u) => u.pathname.endsWith('/verify'));
    check(true, 'Enter on "Send verification email" opens the code page');
    checkIndicators(stops, 'the invite page');

    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
    const codeStops = [];
    await tabTo(page, (f) => f.id === 'code', 'the code field', codeStops);
    await page.keyboard.type(codeIn(email.text));
    await enterAndLoad(page, (u) => u.pathname === '/');
    check(await page.locator('.signed-in').count() === 1, 'Enter in the code field signs in (home page)');
    checkIndicators(codeStops, 'the code page');

    const homeStops = [];
    await tabTo(page, (f) => f.tag === 'a' && f.text.includes(TASK), `the task "${TASK}"`, homeStops);
    checkIndicators(homeStops, 'the home page');
    await enterAndLoad(page, (u) => /^\/tasks\/[^/]+$/.test(u.pathname));
    check(await heading(page) === TASK, `Enter on the task link opens "${TASK}"`, await heading(page));
    pages.task = page.url();

    const taskStops = [];
    await tabTo(page, (f) => f.id === 'notes' || /notes/i.test(f.text) || f.tag === 'textarea', 'the notes field', taskStops);
    await page.keyboard.type('Mon-Fri 8:00-17:00, Saturday closed.');
    await tabTo(page, (f) => f.tag === 'button' && /Mark Complete/.test(f.text), 'Mark Complete', taskStops);
    checkIndicators(taskStops, 'the task page');
    await enterAndLoad(page, (u) => /^\/tasks\/[^/]+/.test(u.pathname));
    const done = norm(await page.locator('.interaction .done').textContent());
    check(done.startsWith('✓ Completed by Dana Whitfield'), 'Enter on Mark Complete completes the task', done);
    await shot(page, '70-a11y-keyboard-completed.png');

    // The other main pages, for the checks below.
    pages.home = `${PORTAL_URL}/`;
    pages.progress = `${PORTAL_URL}/?tab=progress`;
    pages.documents = `${PORTAL_URL}/?tab=documents`;
    pages.settings = `${PORTAL_URL}/settings`;
    pages.team = `${PORTAL_URL}/team`;
    pages.questions = `${PORTAL_URL}/questions`;
    await page.goto(pages.home);
    const links = await page.locator('.task h4 a').evaluateAll((as) => as.map((a) => a.href));
    check(links.length >= 5, `the home lists the tasks (${links.length})`);
    links.slice(0, 12).forEach((href, i) => { pages[`task ${i + 1}`] = href; });
  });

  await step('(2) targets are at least 24 x 24 CSS px on the main pages (phone and desktop)', async () => {
    const results = [];
    const phone = await desktop.context.browser().newContext({ ...PHONE, storageState: await desktop.context.storageState() });
    try {
      for (const [size, ctx] of [['desktop', desktop.context], ['phone', phone]]) {
        const page = await ctx.newPage();
        for (const [what, url] of Object.entries(pages)) {
          const res = await page.goto(url);
          if (res?.status() !== 200) { check(false, `${what} opens (200)`, res?.status()); continue; }
          results.push([`${size}, ${what}: every target is at least 24 x 24`, await smallTargets(page)]);
        }
        await page.close();
      }
    } finally {
      await phone.close();
    }
    report(results);
  });

  await step('(3) reflow at 320 CSS px and at 200 % zoom (640 CSS px): no sideways scroll, no cut-off text', async () => {
    const state = await desktop.context.storageState();
    const results = [];
    for (const [what, width] of [['320 px', 320], ['200 % zoom', 640]]) {
      const ctx = await desktop.context.browser().newContext({ viewport: { width, height: 700 }, storageState: state });
      const page = await ctx.newPage();
      for (const [name, url] of Object.entries(pages)) {
        await page.goto(url);
        results.push([`${what}, ${name}: content reflows`, await reflowProblems(page)]);
      }
      await page.goto(pages.home);
      await shot(page, `71-a11y-home-${width}.png`);
      await ctx.close();
    }
    report(results);
  });

  await step('(4) text on the accent color keeps 4.5:1 with a light brand color', async () => {
    const tenant = await api('GET', '/tenant');
    check(tenant.status === 200 && tenant.etag, 'staff read the tenant (with its version)', tenant.text);
    const branding = tenant.json.branding;
    const before = branding.accent_color;
    const light = await api('PUT', '/tenant/branding', { ...branding, accent_color: '#ffe14d' }, { 'if-match': tenant.etag });
    check(light.status === 200, 'staff set a light yellow accent (#ffe14d)', light.text);
    try {
      const page = desktop.page;
      for (const [what, url, selector] of [
        ['home buttons', pages.home, '.button'],
        ['the current phase mark', pages.progress, '.phase-current .phase-mark'],
        ['the task page buttons', pages['task 1'], '.button'],
      ]) {
        await page.goto(url);
        const colors = await colorsOf(page, selector);
        const low = colors.filter((c) => contrast(c.color, c.background) < 4.5);
        check(colors.length > 0 && low.length === 0,
          `${what} (${colors.length}): text keeps 4.5:1 on the light accent`,
          low.map((c) => `"${c.text}" ${c.color} on ${c.background} = ${contrast(c.color, c.background).toFixed(2)}`).join('; '));
      }
    } finally {
      const now = await api('GET', '/tenant');
      const back = await api('PUT', '/tenant/branding', { ...now.json.branding, accent_color: before }, { 'if-match': now.etag });
      check(back.status === 200, `the accent is set back (${before})`, back.text);
    }
  });

  if (README_SHOTS) {
    await step('(5) the README screenshots: the home page on a phone and on a desktop', async () => {
      const state = await desktop.context.storageState();
      for (const [file, options] of [['home-phone.png', PHONE], ['home-desktop.png', DESKTOP]]) {
        const ctx = await desktop.context.browser().newContext({ ...options, deviceScaleFactor: 1, storageState: state });
        const page = await ctx.newPage();
        await page.goto(pages.home);
        await page.screenshot({ path: path.join(README_SHOTS, file), fullPage: false });
        check(true, `wrote ${path.join(README_SHOTS, file)}`);
        await ctx.close();
      }
    });
  }
  await desktop.context.close();
}

run(main, TOTAL_TIMEOUT_MS, 'the accessibility run');
