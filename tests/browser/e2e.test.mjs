// Browser end-to-end: the citizen's story in real Chromium and Firefox ESR, through the eidlink
// extension, the real eidlink-host, the real pcscd with the virtual card in the vpcd reader, and
// the demo service, which verifies every token and signature with eidlink-verifier against the
// virtual card's CA. Run by tests/browser/run.sh (scripts/test.sh), with pcscd already running.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  VirtualCard, DemoService, HostUser, launchChromium, launchFirefox, insecureSite, screenshotPath, tempDir, cleanup,
  waitFor, SoftHsmToken, SOFTHSM_MODULE, FrameSite, hostProcesses, bin,
} from './lib.mjs';

const BROWSERS = (process.env.EIDLINK_BROWSERS ?? 'chromium,firefox').split(',');

/** Waits for the page's #status to leave "working"; returns its state, code and reason. */
async function outcome(page, timeout = 60000) {
  await page.waitForFunction(
    () => ['ok', 'error'].includes(document.querySelector('#status')?.dataset.state),
    { timeout },
  );
  return page.$eval('#status', (el) => ({
    state: el.dataset.state, code: el.dataset.code ?? '', reason: el.dataset.reason ?? '', text: el.textContent,
  }));
}

async function login(page, url) {
  // Each test starts logged out (the browser keeps the session cookie between tests).
  await page.goto(`${url}?lang=fr`);
  await page.evaluate(() => fetch('/api/auth/logout', { method: 'POST' }));
  await page.goto(`${url}?lang=fr`);
  await page.click('#login');
  return outcome(page);
}

/** Runs raw Web eID page-protocol messages (protocol.md §1) in the page (or frame): no library at all. */
function rawCall(page, request, timeoutMs = 60000) {
  return page.evaluate(
    (request, timeoutMs) =>
      new Promise((resolve) => {
        const seen = [];
        const started = performance.now();
        const done = (result) => {
          window.removeEventListener('message', onMessage);
          resolve({ ...result, seen });
        };
        const onMessage = (event) => {
          if (event.source !== window || !event.data?.action?.startsWith('web-eid:')) return;
          const a = event.data.action;
          if (a === request.action) return; // our own request
          seen.push({ action: a, ms: Math.round(performance.now() - started) });
          if (a === `${request.action}-success` || a === `${request.action}-failure`) done({ reply: event.data });
        };
        window.addEventListener('message', onMessage);
        window.postMessage(request, '*');
        setTimeout(() => done({ reply: null }), timeoutMs);
      }),
    request,
    timeoutMs,
  );
}

/** A nonce as a site makes one (32 random bytes, base64: 44 characters). */
const newNonce = () => randomBytes(32).toString('base64');

/** Adds an iframe of `src` to the page; returns its Frame once loaded. */
async function addFrame(page, src) {
  await page.evaluate((src) => new Promise((resolve, reject) => {
    const iframe = document.createElement('iframe');
    iframe.src = src;
    iframe.onload = resolve;
    iframe.onerror = reject;
    document.body.append(iframe);
  }), src);
  return waitFor(() => page.frames().find((f) => f.url() === src), `the frame ${src}`);
}

/** Starts listening to every Web eID message the page's window gets (read with `seenBy`). */
const listenAll = (page) => page.evaluate(() => {
  window.__seen = [];
  window.addEventListener('message', (e) => e.data?.action && window.__seen.push(e.data.action));
});
const seenBy = (page) => page.evaluate(() => window.__seen);

for (const name of BROWSERS) {
  describe(`${name}: the citizen's story`, () => {
    let dir, card, service, user, browser, site;

    before(async () => {
      dir = tempDir(name);
      card = await VirtualCard.start(dir, 'belpic18');
      service = await DemoService.start(dir, card.pkiDir);
      site = await FrameSite.start(dir);
      user = new HostUser(dir);
      browser = name === 'chromium' ? await launchChromium(user) : await launchFirefox(user);
    });

    after(async () => {
      await browser?.close().catch(() => {});
      site?.stop();
      await service?.stop();
      await card?.stop();
      if (dir) cleanup(dir);
    });

    test('log in with the card, then sign the enrollment contract', async () => {
      user.configure({ pin: '1234', signPin: '1234' });
      const page = await browser.newPage();
      const started = Date.now();
      const r = await login(page, service.url);
      const loginMs = Date.now() - started;
      assert.equal(r.state, 'ok', `login failed: ${JSON.stringify(r)}`);
      assert.match(await page.$eval('#holder', (e) => e.textContent), /ALICE/i);
      assert.match(await page.$eval('#national-number', (e) => e.textContent), /\d{11}/);
      await page.screenshot({ path: screenshotPath(`${name}-1-logged-in`), fullPage: true });

      // The server's own record of what it verified.
      const last = await page.evaluate(async () => (await fetch('/api/last')).json()).catch(() => null);
      assert.ok(last?.login, `the service verified a login: ${JSON.stringify(last)}`);

      await page.goto(`${service.url}contract?lang=fr`);
      await page.click('#sign');
      const s = await outcome(page);
      assert.equal(s.state, 'ok', `signing failed: ${JSON.stringify(s)}`);
      assert.match(await page.$eval('#signed-by', (e) => e.textContent), /ALICE/i);
      const href = await page.$eval('#download', (e) => e.getAttribute('href'));
      assert.ok(href, 'a download link for the signed result');
      await page.screenshot({ path: screenshotPath(`${name}-2-contract-signed`), fullPage: true });

      // The host's journal has both requests, with the site's origin and no PIN.
      const history = user.history();
      const origin = new URL(service.url).origin;
      assert.ok(history.some((h) => h.action === 'authenticate' && h.result === 'ok' && h.origin === origin), JSON.stringify(history));
      assert.ok(history.some((h) => h.action === 'sign' && h.result === 'ok'), JSON.stringify(history));
      console.log(`# ${name}: login (click to verified session) ${loginMs} ms`);
      await page.close();
    });

    test('the raw Web eID page protocol works without our module', async () => {
      user.configure({ pin: '1234' });
      const page = await browser.newPage();
      await page.goto(service.url);
      const { nonce } = await page.evaluate(async () => (await fetch('/api/auth/challenge', { method: 'POST' })).json());
      const { reply, seen } = await rawCall(page, {
        action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: nonce, options: { lang: 'en' },
      });
      assert.equal(seen[0]?.action, 'web-eid:authenticate-ack', JSON.stringify(seen));
      assert.ok(seen[0].ms < 1000, `ack within 1 s (${seen[0].ms} ms)`);
      assert.equal(reply?.action, 'web-eid:authenticate-success', JSON.stringify(reply));
      assert.equal(reply.format, 'web-eid:1.0');
      const tokenMs = seen.at(-1).ms;
      // The service verifies the token exactly as it does for its own page.
      const { action: _a, ...token } = reply;
      const verified = await page.evaluate(async (token) => {
        const r = await fetch('/api/auth/login', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
        });
        return { status: r.status, body: await r.json() };
      }, token);
      assert.equal(verified.status, 200, JSON.stringify(verified));
      console.log(`# ${name}: page-to-token ${tokenMs} ms (postMessage to authenticate-success, scripted PIN)`);
      const status = await rawCall(page, { action: 'web-eid:status', libraryVersion: '2.0.0' });
      assert.equal(status.reply?.action, 'web-eid:status-success', JSON.stringify(status));
      for (const k of ['library', 'extension', 'nativeApp']) assert.match(status.reply[k], /^2\.\d+\.\d+/);
      await page.close();
    });

    test('cancel in the PIN dialog shows "cancelled" on the page', async () => {
      user.configure({ answers: 'cancel' });
      const page = await browser.newPage();
      const r = await login(page, service.url);
      assert.equal(r.state, 'error');
      assert.equal(r.code, 'ERR_WEBEID_USER_CANCELLED', JSON.stringify(r));
      assert.match(r.text, /annul/i, 'a French message for a French page');
      await page.screenshot({ path: screenshotPath(`${name}-3-cancelled`), fullPage: true });
      await page.close();
    });

    test('no card: the page says to insert it', async () => {
      user.configure({ pin: '1234', timeout: 3 });
      await card.remove();
      try {
        const page = await browser.newPage();
        const r = await login(page, service.url);
        assert.equal(r.state, 'error');
        assert.equal(r.reason, 'NO_CARD', JSON.stringify(r));
        assert.match(r.text, /carte/i);
        await page.screenshot({ path: screenshotPath(`${name}-4-no-card`), fullPage: true });
        await page.close();
      } finally {
        await card.insert();
      }
    });

    test('a page on plain http gets ERR_WEBEID_CONTEXT_INSECURE', async () => {
      const { server, url } = await insecureSite();
      try {
        const page = await browser.newPage();
        await page.goto(url);
        assert.equal(await page.evaluate(() => window.isSecureContext), false);
        const { reply } = await rawCall(page, { action: 'web-eid:status', libraryVersion: '2.0.0' }, 5000);
        assert.equal(reply?.action, 'web-eid:status-failure', JSON.stringify(reply));
        assert.equal(reply.error.code, 'ERR_WEBEID_CONTEXT_INSECURE');
        await page.close();
      } finally {
        server.close();
      }
    });

    test("a second tab's request does not see the first tab's result", async () => {
      user.configure({ pin: '1234' });
      const first = await browser.newPage();
      const second = await browser.newPage();
      await first.goto(service.url);
      await second.goto(service.url);
      // The second tab listens to every message it gets while the first one authenticates.
      await second.evaluate(() => {
        window.__seen = [];
        window.addEventListener('message', (e) => e.data?.action && window.__seen.push(e.data.action));
      });
      const { nonce } = await first.evaluate(async () => (await fetch('/api/auth/challenge', { method: 'POST' })).json());
      const [auth, status] = await Promise.all([
        rawCall(first, { action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: nonce }),
        rawCall(second, { action: 'web-eid:status', libraryVersion: '2.0.0' }),
      ]);
      assert.equal(auth.reply?.action, 'web-eid:authenticate-success', JSON.stringify(auth));
      assert.equal(status.reply?.action, 'web-eid:status-success', JSON.stringify(status));
      await waitFor(async () => true, 'settle', 100);
      const seen = await second.evaluate(() => window.__seen);
      assert.ok(!seen.some((a) => a.startsWith('web-eid:authenticate')), `the second tab saw ${seen}`);
      await first.close();
      await second.close();
    });

    test('50 raw authenticate messages in a loop: one host, one dialog; leaving the page or closing the tab ends it', async () => {
      // The scripted user leaves the dialog open, so the first request stays pending meanwhile.
      user.configure({ answers: 'hang', timeout: 20 });
      // Hosts of earlier tests (status quits within a second) are gone first, so all are counted.
      await waitFor(() => hostProcesses(browser).length === 0, 'earlier hosts to exit');
      const dialogsBefore = user.dialogs().length;
      const historyBefore = user.history().length;
      const page = await browser.newPage();
      await page.goto(service.url);
      const { nonce } = await page.evaluate(async () => (await fetch('/api/auth/challenge', { method: 'POST' })).json());
      const started = Date.now();
      await page.evaluate((nonce) => {
        window.__replies = [];
        window.addEventListener('message', (e) => {
          if (e.source === window && /^web-eid:authenticate-(success|failure)$/.test(e.data?.action)) window.__replies.push(e.data);
        });
        for (let i = 0; i < 50; i++) {
          window.postMessage({ action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: nonce }, '*');
        }
      }, nonce);
      // The first request's dialog is up; then a moment for any others to start (none may).
      await waitFor(() => user.dialogs().length > dialogsBefore, 'the PIN dialog');
      let most = 0;
      for (const end = Date.now() + 700; Date.now() < end;) {
        most = Math.max(most, hostProcesses(browser).length);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(most, 1, 'one host process while the loop ran');
      assert.equal(user.dialogs().length - dialogsBefore, 1, 'one dialog');
      const replies = await waitFor(() => page.evaluate(() => window.__replies.length >= 49 && window.__replies),
        '49 replies', 5000);
      assert.equal(replies.length, 49, 'the first request is still pending');
      for (const r of replies) assert.equal(r.error?.code, 'ERR_WEBEID_ACTION_PENDING', JSON.stringify(r));

      // Navigating away closes the request's port: the host and its dialog end, the tab is free.
      await page.goto(`${service.url}?lang=en`);
      await waitFor(() => hostProcesses(browser).length === 0, 'the host to exit after the page left', 5000);
      // The scripted dialog's first line is its pid.
      const dialogPid = Number(user.dialogs().at(-1).split(' ')[1]);
      await waitFor(() => !existsSync(`/proc/${dialogPid}`), 'the dialog to close', 5000);
      assert.equal(user.history().length - historyBefore, 1, 'one history line for the 50 messages');
      user.configure({ pin: '1234' });
      const { nonce: again } = await page.evaluate(async () => (await fetch('/api/auth/challenge', { method: 'POST' })).json());
      const { reply } = await rawCall(page, { action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: again });
      assert.equal(reply?.action, 'web-eid:authenticate-success', JSON.stringify(reply));

      // Closing the tab ends a pending request the same way.
      user.configure({ answers: 'hang', timeout: 20 });
      const dialogsNow = user.dialogs().length;
      await page.evaluate((nonce) => window.postMessage(
        { action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: nonce }, '*'), newNonce());
      await waitFor(() => user.dialogs().length > dialogsNow, 'the PIN dialog');
      await page.close();
      await waitFor(() => hostProcesses(browser).length === 0, 'the host to exit after the tab closed', 5000);
      console.log(`# ${name}: 50-message loop, its refusals, leaving, a new login, a closed tab: ${Date.now() - started} ms`);
    });

    test('a cross-origin iframe signs in its own name, unseen by the top page; a sandboxed frame is refused', async () => {
      user.configure({ pin: '1234' });
      const started = Date.now();
      const page = await browser.newPage();
      await page.goto(`${site.hosting}/page`);
      await listenAll(page);
      const frame = await addFrame(page, `${site.other}/page`);
      const nonce = newNonce();
      const { reply } = await rawCall(frame, { action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: nonce });
      assert.equal(reply?.action, 'web-eid:authenticate-success', JSON.stringify(reply));
      // The dialog named the frame's site and was told which page embeds it ("embedded in").
      const ask = user.asks().filter((a) => a.origin === site.other).at(-1);
      assert.equal(ask?.top_origin, site.hosting, JSON.stringify(ask));

      // The token is bound to the frame's origin, as the real verifier checks it, and not the page's.
      const { action: _a, ...token } = reply;
      const tokenFile = path.join(dir, 'frame-token.json');
      writeFileSync(tokenFile, JSON.stringify(token));
      const verify = (origin) => execFileSync(bin('eidlink'), [
        'verify-token', '--origin', origin, '--nonce', nonce, '--trust', path.join(card.pkiDir, 'root.der'),
        '--intermediate', path.join(card.pkiDir, 'ca.der'), tokenFile,
      ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(verify(site.other), /token OK/);
      assert.throws(() => verify(site.hosting), 'the token is not valid for the top page');
      assert.equal(user.history().at(-1)?.origin, site.other, JSON.stringify(user.history().at(-1)));
      assert.deepEqual(await seenBy(page), [], 'the top page saw none of the frame\'s messages');

      // User content the hosting site serves with CSP: sandbox, framed and on its own: an opaque
      // origin; its URL's origin is the hosting site's, which it must not get to use.
      const dialogs = user.dialogs().length;
      const history = user.history().length;
      const sandboxed = await addFrame(page, `${site.hosting}/user-content`);
      const alone = await browser.newPage();
      await alone.goto(`${site.hosting}/user-content`);
      for (const where of [sandboxed, alone]) {
        assert.equal(await where.evaluate(() => window.origin), 'null');
        for (const request of [
          { action: 'web-eid:authenticate', libraryVersion: '2.0.0', challengeNonce: newNonce() },
          { action: 'web-eid:status', libraryVersion: '2.0.0' },
        ]) {
          const { reply: refused, seen } = await rawCall(where, request, 5000);
          assert.equal(seen[0]?.action, `${request.action}-ack`, JSON.stringify(seen));
          assert.equal(refused?.action, `${request.action}-failure`, JSON.stringify(refused));
          assert.equal(refused.error.code, 'ERR_WEBEID_CONTEXT_INSECURE');
          assert.equal(refused.error.reason, 'ORIGIN_REJECTED');
        }
      }
      assert.equal(user.dialogs().length, dialogs, 'no dialog for a sandboxed frame');
      assert.equal(user.history().length, history, 'no host ran for it');
      assert.deepEqual(await seenBy(page), [], 'nor did the top page see the sandboxed frame\'s messages');
      console.log(`# ${name}: cross-origin and sandboxed frames: ${Date.now() - started} ms`);
      await alone.close();
      await page.close();
    });
  });
}

// The same story with a PKCS#11 token instead of a card: a SoftHSM2 token (keys made on the token,
// certificates from the test PKI) that the host reaches through the module configured in
// `pkcs11-modules`; no card is in the reader. One browser: the PKCS#11 path is the host's, and the
// browser part is the one above.
if (BROWSERS.includes('chromium')) {
  describe('chromium: log in and sign with a PKCS#11 token (SoftHSM2)', () => {
    let dir, token, service, user, browser;

    before(async () => {
      dir = tempDir('softhsm');
      token = SoftHsmToken.start(dir);
      service = await DemoService.start(dir, token.pkiDir);
      user = new HostUser(dir);
      user.extraEnv = { SOFTHSM2_CONF: token.conf };
      browser = await launchChromium(user);
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await service?.stop();
      if (dir) cleanup(dir);
    });

    test('log in with the token, then sign the enrollment contract', async () => {
      user.configure({
        pin: '1234',
        signPin: '1234',
        extra: `pkcs11-modules = ["${SOFTHSM_MODULE}"]\nwell-known-pkcs11-modules = false\n`,
      });
      const page = await browser.newPage();
      const r = await login(page, service.url);
      assert.equal(r.state, 'ok', `login failed: ${JSON.stringify(r)}`);
      assert.match(await page.$eval('#holder', (e) => e.textContent), /ALICE/i);
      const last = await page.evaluate(async () => (await fetch('/api/last')).json()).catch(() => null);
      assert.ok(last?.login, `the service verified a login: ${JSON.stringify(last)}`);
      await page.screenshot({ path: screenshotPath('chromium-softhsm-1-logged-in'), fullPage: true });

      await page.goto(`${service.url}contract?lang=fr`);
      await page.click('#sign');
      const s = await outcome(page);
      assert.equal(s.state, 'ok', `signing failed: ${JSON.stringify(s)}`);
      assert.match(await page.$eval('#signed-by', (e) => e.textContent), /ALICE/i);
      await page.screenshot({ path: screenshotPath('chromium-softhsm-2-contract-signed'), fullPage: true });

      // The dialog was asked through the module's token: no made-up count of tries.
      const asks = readFileSync(user.dialogLog, 'utf8').split('\n').filter((l) => l.includes('"type":"ask"'))
        .map((l) => JSON.parse(l));
      assert.ok(asks.length >= 2, JSON.stringify(asks));
      for (const a of asks.filter((x) => x.purpose !== 'consent')) {
        assert.equal(a.pin.tries_left, null, JSON.stringify(a));
        assert.equal(a.pin.charset, 'any', JSON.stringify(a));
      }
      await page.close();
    });
  });
}
