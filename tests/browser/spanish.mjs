// The client's journey in Spanish (issue 14) in headless Chromium, on a phone and a desktop.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox API_KEY=pk_... node tests/browser/spanish.mjs
//
// Run against a freshly seeded demo (its own data folder: it completes the demo's
// checklist). Every text it looks for comes from the catalog files
// (portal-core/locales/{en,es}/*.ftl), so a reworded message does not break it, and every
// page it opens is searched for English catalog messages that Spanish words differently:
// an English sentence on a Spanish page is a string left out of the catalog's path.
// (0) Staff add two contacts through the admin API: Lucía (no language set, Mexico City
// time) and Jorge (the MSP set Spanish). (1) Lucía, on a phone whose browser asks for
// Spanish, opens her invite and signs in: invite, verification and home in Spanish.
// (2) The home: the next step, the tabs, Our Progress. (3) She ticks the demo's checklist
// off, which completes it; she drops three files on the document request, and the upload
// script's live messages are Spanish. (4) Ask a Question: a blank question is refused in Spanish,
// a real one is listed as waiting for an answer. (5) Settings name her time zone.
// (6) She signs out: the signed-out page in Spanish. (7) Jorge, on a desktop whose
// browser asks for English, gets his invitation in Spanish and, once signed in, reads the
// portal in Spanish (the MSP's setting wins over the browser). Screenshots (90-...).
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).
// Environment: PORTAL_URL, OUTBOX, API_KEY, CHROMIUM, ARTIFACTS (as team.mjs).

import {
  PORTAL_URL, OUTBOX, CHROMIUM, PHONE, ARTIFACTS, INVITE_PATH_RE,
  check, step, run, launchBrowser, newContext, shot, heading, norm, sidewaysOverflow,
  waitForEmail, seenFiles, linkFrom, ensureArtifacts, api, submit, signInFrom, catalog, fill, dropFiles,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 240_000;
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'en-US' };
const PHONE_ES = { ...PHONE, locale: 'es-MX' };
const stamp = Date.now().toString(36);
const LUCIA = { name: `Lucía Fernández ${stamp}`, email: `lucia.${stamp}@contoso-dental.example`, time_zone: 'America/Mexico_City' };
const JORGE = { name: `Jorge Ruiz ${stamp}`, email: `jorge.${stamp}@contoso-dental.example`, language: 'es' };
const CHECKLIST = 'Prepare workstations for the new agent';
const QUESTION = `¿Quién configura la VPN de la segunda oficina? (${stamp})`;

let en;
let es;
let portalId;
let lucia;
let jorgeLink;
let data = [];

/** The longest fixed piece of a catalog message (between arguments and markup). */
function fragment(message) {
  return (message || '').split(/\{[^}]*\}|<[^>]+>/).map((s) => s.trim())
    .sort((a, b) => b.length - a.length)[0] || '';
}

/**
 * English catalog messages (pieces of 14 characters or more between arguments) that
 * Spanish words differently and that `text` nevertheless contains.
 */
function englishIn(text) {
  const found = [];
  for (const [key, value] of en) {
    if (es.get(key) === value) continue;
    for (const piece of value.split(/\{[^}]*\}|<[^>]+>/).map((s) => s.trim())) {
      if (piece.length >= 14 && text.includes(piece)) found.push(`${key}: "${piece}"`);
    }
  }
  return found;
}

/** Every text of a JSON value (the plan as the API gives it): the MSP's own words. */
function textsOf(value, out = []) {
  if (typeof value === 'string') {
    if (value.length > 3) out.push(norm(value));
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) textsOf(v, out);
  }
  return out;
}

/**
 * The page is Spanish: `<html lang="es">` and no English catalog message on it, once
 * the MSP's own words (the plan's titles, descriptions, items: English data the demo
 * seeds) are taken out.
 */
async function spanishPage(page, what) {
  const lang = await page.locator('html').getAttribute('lang');
  check(lang === 'es', `${what}: <html lang="es">`, lang);
  let text = norm(await page.locator('body').innerText());
  for (const d of data) text = text.split(d).join(' ');
  const left = englishIn(text);
  check(left.length === 0, `${what}: no English message left`, left.join('; '));
}

async function addContact(contact) {
  const added = await api('POST', `/portals/${portalId}/contacts`, contact);
  check(added.status === 201, `staff add ${contact.name} (201)`, added.text);
  check(added.json.language === (contact.language ?? null), `${contact.name}'s language is ${contact.language ?? 'not set'}`, added.text);
  return added.json;
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  check(/^pk_[0-9a-f]{64}$/.test(process.env.API_KEY || ''), 'API_KEY holds a demo API key');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  en = await catalog('en');
  es = await catalog('es');
  check(en.size > 200 && es.size > 200, `the catalogs are read (${en.size} English, ${es.size} Spanish messages)`);
  await launchBrowser();

  await step('(0) staff add Lucía (browser language) and Jorge (Spanish set by the MSP)', async () => {
    const portals = await api('GET', '/portals?limit=100');
    check(portals.status === 200, 'the API lists the portals', portals.text);
    const portal = portals.json.items.find((p) => p.client_name === 'Contoso Dental Group');
    check(Boolean(portal), 'the demo portal "Contoso Dental Group" is listed');
    portalId = portal.id;
    const plan = await api('GET', `/portals/${portalId}/plan`);
    check(plan.status === 200, 'the API gives the plan', plan.text);
    // Longest first, so a title is taken out before a shorter text inside it.
    data = textsOf(plan.json).sort((a, b) => b.length - a.length);
    const l = await addContact(LUCIA);
    const j = await addContact(JORGE);
    const invited = await api('POST', `/portals/${portalId}/contacts/${l.id}/invite-link`);
    check(invited.status === 200, 'Lucía\'s invite link is issued', invited.text);
    lucia = { link: invited.json.invite_url };
    check(INVITE_PATH_RE.test(lucia.link || ''), 'the API returns her invite link', invited.text);
    const seen = await seenFiles();
    const emailed = await api('POST', `/portals/${portalId}/contacts/${j.id}/invite`);
    check(emailed.status === 200, 'Jorge\'s invitation is emailed', emailed.text);
    const invitation = await waitForEmail(seen, (e) => e.to.includes(JORGE.email) && INVITE_PATH_RE.test(e.text), 'Jorge\'s invitation');
    const subject = fragment(es.get('email-invite-subject'));
    check(invitation.subject.includes(subject), `his invitation's subject is Spanish ("${subject}")`, invitation.subject);
    const button = fragment(es.get('email-invite-personal'));
    check(norm(invitation.text).includes(button), 'its text is Spanish', invitation.text.slice(0, 400));
    jorgeLink = linkFrom(invitation, INVITE_PATH_RE, 'invite').href;
  });

  await step('(1) Lucía, on a Spanish phone, opens her invite and signs in', async () => {
    lucia = await signInFrom(lucia.link, PHONE_ES, 'Lucía (phone, es-MX)', {
      to: LUCIA.email,
      tap: true,
      send: es.get('invite-send'),
      go: es.get('verify-continue'),
      subject: /verification code|código de verificación/i,
    });
    await spanishPage(lucia.page, 'the home after sign-in');
  });

  await step('(2) the home: the next step, the tabs and Our Progress in Spanish', async () => {
    const page = lucia.page;
    const label = norm(await page.locator('.next-label').first().textContent());
    check(label === es.get('next-step'), `the card says "${es.get('next-step')}"`, label);
    check(!(await sidewaysOverflow(page)), 'no sideways scrolling on the phone');
    await shot(page, '90-es-home-phone.png');
    const res = await page.goto(`${PORTAL_URL}/?tab=progress`);
    check(res?.status() === 200, 'Our Progress opens (200)', res?.status());
    await spanishPage(page, 'Our Progress');
    const res2 = await page.goto(`${PORTAL_URL}/?tab=documents`);
    check(res2?.status() === 200, 'the Documents tab opens (200)', res2?.status());
    await spanishPage(page, 'the Documents tab');
  });

  await step('(3) she ticks the checklist off, which completes it', async () => {
    const page = lucia.page;
    const plan = await api('GET', `/portals/${portalId}/plan`);
    const task = plan.json.phases.flatMap((p) => p.tasks).find((t) => t.title === CHECKLIST);
    check(Boolean(task), `the demo has the checklist "${CHECKLIST}"`);
    const res = await page.goto(`${PORTAL_URL}/tasks/${task.id}`);
    check(res?.status() === 200 && await heading(page) === CHECKLIST, 'the checklist opens', await heading(page));
    await spanishPage(page, 'the open checklist');
    const before = norm(await page.locator('.task-page .meta .pill').first().textContent());
    const tick = () => page.locator('form[action$="/checklist"] button[name="checked"][value="1"]');
    let ticks = 0;
    while (await tick().count() > 0 && ticks < 10) {
      await submit(page, tick().first(), true);
      ticks += 1;
    }
    check(ticks >= 1 && await tick().count() === 0, `every open item is ticked (${ticks})`);
    const after = norm(await page.locator('.task-page .meta .pill').first().textContent());
    check(after !== before, `the status changed ("${before}" → "${after}")`);
    check(!/complete|open|overdue/i.test(after), 'the status is not English', after);
    await spanishPage(page, 'the completed checklist');
    await shot(page, '91-es-checklist-done-phone.png');
  });

  await step('(3b) she drops three files on the document request: the upload script speaks Spanish', async () => {
    const page = lucia.page;
    const plan = await api('GET', `/portals/${portalId}/plan`);
    const task = plan.json.phases.flatMap((p) => p.tasks).find((t) => t.kind.type === 'document_upload');
    check(Boolean(task), `the demo has a document request ("${task?.title}")`);
    const docs = task.kind.documents.map((d) => d.name);
    const res = await page.goto(`${PORTAL_URL}/tasks/${task.id}`);
    check(res?.status() === 200, 'the document request opens (200)', res?.status());
    await spanishPage(page, 'the document request');
    const pdf = (name) => ({ name, type: 'application/pdf', content: `%PDF-1.4\n% ${name}\n%%EOF\n` });
    const files = docs.map((_, i) => pdf(`archivo-${i + 1}-${stamp}.pdf`));
    const extra = pdf(`de-mas-${stamp}.pdf`);
    await dropFiles(page, '[data-drop-all]', [...files, extra]);
    await page.locator('.doc-uploaded').nth(docs.length - 1).waitFor();
    const uploaded = fill(es.get('js-uploaded-doc'), { name: files[0].name, doc: docs[0] });
    await page.waitForFunction((text) => document.getElementById('upload-announcer').textContent.includes(text), uploaded);
    const said = norm(await page.locator('#upload-announcer').textContent());
    check(said.includes(uploaded), `the live region says "${uploaded}"`, said);
    const note = fill(es.get('js-extra-one'), { names: extra.name });
    check(said.includes(note), 'and that the extra file was not uploaded, in Spanish', said);
    check(englishIn(said).length === 0, 'no English in what the script said', englishIn(said).join('; '));
    await spanishPage(page, 'the document request after the upload');
  });

  await step('(4) Ask a Question: a blank question is refused in Spanish, a real one is listed', async () => {
    const page = lucia.page;
    const res = await page.goto(`${PORTAL_URL}/questions`);
    check(res?.status() === 200, 'the questions page opens (200)', res?.status());
    await spanishPage(page, 'the questions page');
    const send = page.getByRole('button', { name: es.get('questions-send') });
    await page.locator('textarea').first().fill('    ');
    await submit(page, send, true);
    const refused = norm(await page.locator('main').textContent());
    check(refused.includes(es.get('questions-error-text')), 'a blank question is refused with the Spanish reason', refused.slice(0, 400));
    await page.locator('textarea').first().fill(QUESTION);
    await submit(page, page.getByRole('button', { name: es.get('questions-send') }), true);
    const listed = norm(await page.locator('main').textContent());
    check(listed.includes(QUESTION), 'her question is listed', listed.slice(0, 400));
    check(listed.includes(es.get('questions-waiting')), `it is "${es.get('questions-waiting')}"`, listed.slice(0, 400));
    await spanishPage(page, 'the questions page with her question');
  });

  await step('(5) settings name her time zone', async () => {
    const page = lucia.page;
    const res = await page.goto(`${PORTAL_URL}/settings`);
    check(res?.status() === 200, 'settings open (200)', res?.status());
    await spanishPage(page, 'settings');
    const main = norm(await page.locator('main').textContent());
    check(main.includes(fill(es.get('settings-zone-shown'), { zone: LUCIA.time_zone })), `"${fill(es.get('settings-zone-shown'), { zone: LUCIA.time_zone })}"`, main.slice(0, 400));
    check(main.includes(es.get('settings-this-device')), `her device is "${es.get('settings-this-device')}"`);
  });

  await step('(6) she signs out: the signed-out page in Spanish', async () => {
    const page = lucia.page;
    await page.goto(`${PORTAL_URL}/`);
    await submit(page, page.getByRole('button', { name: es.get('nav-sign-out') }), true);
    check(await heading(page) === es.get('signed-out-title'), `"${es.get('signed-out-title')}"`, await heading(page));
    await spanishPage(page, 'the signed-out page');
    await lucia.context.close();
  });

  await step('(7) Jorge, on an English desktop, reads the portal in the Spanish the MSP set', async () => {
    // Before sign-in nobody is known: the invite page follows the English browser, and
    // the search for English messages must find them there (it can fail).
    const probe = await newContext(DESKTOP, 'probe (desktop, en-US)');
    await probe.page.goto(jorgeLink);
    const english = englishIn(norm(await probe.page.locator('body').innerText()));
    check(english.length >= 3, `the English invite page is caught (${english.length} English messages)`, english.join('; '));
    await probe.context.close();
    const jorge = await signInFrom(jorgeLink, DESKTOP, 'Jorge (desktop, en-US)', {
      to: JORGE.email,
      subject: /código de verificación/i,
    });
    const page = jorge.page;
    await spanishPage(page, 'Jorge\'s home');
    const label = norm(await page.locator('.next-label').first().textContent());
    check(label === es.get('next-step'), `the card says "${es.get('next-step')}"`, label);
    await shot(page, '92-es-home-desktop.png');
    const problems = [...lucia.watcher.problems, ...jorge.watcher.problems];
    check(problems.length === 0, 'no console error, failed request or error response', problems.join('\n'));
    await jorge.context.close();
  });
}

run(main, TOTAL_TIMEOUT_MS, 'the Spanish journey');
