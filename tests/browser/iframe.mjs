// The portal inside another site's page (a vendor's PSA framing it), in headless
// Chromium: the whole sign-in happens inside a cross-site iframe.
//
//   PORTAL_URL=http://localhost:18080 OUTBOX=demo-data/outbox EMBED_PORT=18090 node tests/browser/iframe.mjs
//
// Needs the demo started with `--frame-ancestors http://127.0.0.1:$EMBED_PORT`. This
// script serves the "vendor" page itself on http://127.0.0.1:$EMBED_PORT (another site
// than localhost), framing the newest invite link. Inside the frame: "Send verification
// email", the code from the outbox, "Continue", and the portal home signed in. That
// only works because the portal's cookies are then `SameSite=None; Secure; Partitioned`
// (CHIPS): `Lax` cookies never reach a cross-site frame. Screenshot: artifacts/60-...
// Every check prints a line; the run ends with "N passed, 0 failed" (exit 0).

import http from 'node:http';
import {
  PORTAL_URL, OUTBOX, CHROMIUM, ARTIFACTS, INVITE_PATH_RE,
  check, step, run, launchBrowser, newContext, shot, norm,
  readOutbox, waitForEmail, seenFiles, linkFrom, codeIn, ensureArtifacts,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 120_000;
const CONTACT = 'Dana Whitfield';
const EMBED_PORT = Number(process.env.EMBED_PORT || 18090);
const VENDOR = `http://127.0.0.1:${EMBED_PORT}`;

function vendorPage(src) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vendor PSA</title></head>
<body><h1>Vendor PSA: client onboarding</h1>
<iframe id="portal" title="Client portal" src="${src}" style="width:420px;height:900px;border:1px solid #888"></iframe>
</body></html>`;
}

async function main() {
  check(Boolean(OUTBOX), 'OUTBOX names the demo outbox folder');
  await ensureArtifacts();
  console.log(`portal: ${PORTAL_URL}\nvendor page: ${VENDOR}\noutbox: ${OUTBOX}\nbrowser: ${CHROMIUM}\nartifacts: ${ARTIFACTS}`);
  check(new URL(PORTAL_URL).hostname !== '127.0.0.1', 'the portal and the vendor page are different sites');

  const invites = (await readOutbox()).filter((e) => INVITE_PATH_RE.test(e.text));
  check(invites.length > 0, `the outbox holds an invite email (${invites.length})`);
  const invite = linkFrom(invites[invites.length - 1], INVITE_PATH_RE, 'invite');

  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(vendorPage(invite.href));
  });
  await new Promise((resolve) => server.listen(EMBED_PORT, '127.0.0.1', resolve));
  server.unref();

  await launchBrowser();
  const { context, page } = await newContext({ viewport: { width: 800, height: 1000 } }, 'vendor');
  const portalCookies = [];
  const framing = [];
  page.on('response', async (res) => {
    if (!res.url().startsWith(PORTAL_URL)) return;
    const headers = await res.allHeaders();
    if (headers['set-cookie']) portalCookies.push(...headers['set-cookie'].split('\n'));
    if (headers['content-security-policy']) framing.push(headers['content-security-policy']);
  });

  await step('(1) the vendor page frames the portal invite page', async () => {
    const res = await page.goto(VENDOR);
    check(res?.status() === 200, 'the vendor page opens (200)', res?.status());
    const frame = page.frameLocator('#portal');
    await frame.getByRole('button', { name: 'Send verification email' }).waitFor();
    check(true, 'the invite page shows inside the cross-site iframe');
    check(framing.some((csp) => csp.includes(`frame-ancestors ${VENDOR}`)),
      `the portal's CSP allows ${VENDOR} as a frame ancestor`, framing[0]);
  });

  await step('(2) sign in inside the frame: verification email, code, home', async () => {
    const frame = page.frameLocator('#portal');
    const seen = await seenFiles();
    await frame.getByRole('button', { name: 'Send verification email' }).click();
    await frame.locator('#code').waitFor();
    check(true, 'the frame moves on to the code page (the verification cookie came back)');
    const email = await waitForEmail(seen, (e) => /verification code/i.test(e.subject), 'verification');
    await frame.locator('#code').fill(codeIn(email.text));
    await frame.getByRole('button', { name: 'Continue', exact: true }).click();
    await frame.locator('.signed-in').waitFor();
    const signedIn = norm(await frame.locator('.signed-in').textContent());
    check(signedIn === `Signed in as ${CONTACT}`, `inside the frame: signed in as ${CONTACT}`, signedIn);
    await shot(page, '60-iframe-signed-in.png');
  });

  await step('(3) the cookies that made it work', async () => {
    const set = portalCookies.filter((c) => !/Max-Age=0/.test(c));
    check(set.length > 0, `the portal set cookies (${set.length})`);
    for (const c of set) {
      const name = c.split('=')[0];
      for (const attr of ['SameSite=None', 'Secure', 'Partitioned', 'HttpOnly']) {
        check(c.includes(attr), `${name} is ${attr}`, c.replace(/=[^;]*/, '=<value>'));
      }
    }
    const jar = await context.cookies(PORTAL_URL);
    check(jar.some((c) => c.name.endsWith('portal_session')), 'the browser keeps the session cookie for the framed portal',
      jar.map((c) => c.name));
  });
  await context.close();
  server.close();
}

run(main, TOTAL_TIMEOUT_MS, 'the iframe run');
