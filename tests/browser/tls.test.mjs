// TLS client-certificate login in real browsers: headless Chromium and Firefox ESR open a page of an
// HTTPS server (openssl s_server, TLS 1.2 and 1.3) that demands a client certificate from the
// virtual card's CA; the browser signs with the card through eidlink's PKCS#11 module
// (libeidlink_pkcs11.so, registered the way users get it: the NSS database for Chromium, the
// SecurityDevices policy for Firefox), the module asks the PIN through the scripted PIN program,
// and the server's page echoes the card's certificate subject and the signature the browser made.
// First the browser plumbing alone (policy, NSS database, server CA) with a software certificate.
// Run by tests/browser/run.sh after e2e.test.mjs, sharing its pcscd; every policy file written here
// is removed (or the one that was there put back) in an after hook, and at exit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT, VirtualCard, HostUser, TlsServer, echo, softwareClient, NssDb, SystemFile, CHROMIUM_POLICY_DIR,
  FIREFOX_POLICIES, launchChromiumPlain, launchFirefoxPlain, tempDir, cleanup, screenshotPath, waitFor, bin,
} from './lib.mjs';

const BROWSERS = (process.env.EIDLINK_BROWSERS ?? 'chromium,firefox').split(',');
const MODULE = process.env.EIDLINK_PKCS11_MODULE ?? path.join(ROOT, 'target/debug/libeidlink_pkcs11.so');
/** The card's CA as its certificates name it (the filter of Chromium's auto-selection). */
const CARD_CA_CN = 'eidlink TEST EC Citizen CA';
const SOFTWARE_CA_CN = 'eidlink TEST software client CA';

let loads = 0;

/**
 * Loads `url` (with a query of its own, so that no cache answers); returns the server's echo, or
 * the browser's error text when the load fails.
 */
async function load(page, url) {
  try {
    const response = await page.goto(`${url}?load=${++loads}`, { waitUntil: 'load', timeout: 60000 });
    const text = await page.evaluate(() => document.body?.innerText ?? '');
    return { status: response?.status(), echo: echo(text), text };
  } catch (e) {
    return { error: e.message };
  }
}

/**
 * Waits until every PIN dialog the module started has ended and none started for a while: a browser
 * may make another handshake after the page loaded (for the page's icon), whose dialog must not be
 * taken for the next test's.
 */
async function quiet(w) {
  const record = () => (existsSync(w.user.dialogLog) ? readFileSync(w.user.dialogLog, 'utf8') : '');
  let last = record();
  let since = Date.now();
  await waitFor(() => {
    const now = record();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    const started = (now.match(/^PID /gm) ?? []).length;
    const ended = (now.match(/^EXIT$/gm) ?? []).length;
    return started === ended && Date.now() - since > 400;
  }, 'the PIN dialogs to end', 20000);
}

/** Where the PIN program's record and the server's log are now, once the dialogs are over. */
async function mark(w, server) {
  await quiet(w);
  return { asks: w.user.asks().length, out: server.output().length };
}

/**
 * The PIN asks since `m`, and the handshakes in which the server verified the card's certificate.
 * A browser may make more than one handshake for a page (its icon), each with a signature: waits
 * until `settled(asks, verified)` (the server logs a handshake a moment after the ask).
 */
async function since(w, server, m, settled) {
  const now = () => ({
    asks: w.user.asks().slice(m.asks),
    verified: (server.output().slice(m.out).match(/depth=0 C = BE, CN = Alice Specimen \(Authentication\)/g) ?? []).length,
  });
  await waitFor(() => settled(now()), 'the PIN asks and the handshakes', 10000).catch(() => {});
  await quiet(w);
  return now();
}

/** The suite's world: the card, the servers, the host user (PIN program config, history). */
async function world(name) {
  if (!existsSync(MODULE)) throw new Error(`${MODULE} is missing: cargo build -p eidlink-pkcs11-module`);
  const dir = tempDir(`tls-${name}`);
  const card = await VirtualCard.start(dir, 'belpic18');
  const chain = path.join(dir, 'card-ca-chain.pem');
  writeFileSync(chain, readFileSync(path.join(card.pkiDir, 'ca.pem'), 'utf8') + readFileSync(path.join(card.pkiDir, 'root.pem'), 'utf8'));
  try {
    return await worldWith(dir, card, chain);
  } catch (e) {
    await card.stop();
    cleanup(dir);
    throw e;
  }
}

async function worldWith(dir, card, chain) {
  const software = softwareClient(dir);
  // One server per scenario (each a port of its own): browsers keep connections open, and a
  // connection made while the PIN was right must not serve the page of the cancel test. A server
  // starts in about 50 ms.
  const servers = {
    software: await TlsServer.start(dir, software.ca, '1.3'),
    '1.2': await TlsServer.start(dir, chain, '1.2'),
    '1.3': await TlsServer.start(dir, chain, '1.3'),
    wrongPin: await TlsServer.start(dir, chain, '1.3'),
    cancel: await TlsServer.start(dir, chain, '1.3'),
    removed: await TlsServer.start(dir, chain, '1.3'),
    // The Belgian 1.7 card (RSA), whose certificate chains to the same CAs.
    rsa12: await TlsServer.start(dir, chain, '1.2'),
    rsa13: await TlsServer.start(dir, chain, '1.3'),
  };
  const user = new HostUser(dir);
  const subject = subjectOf(path.join(card.pkiDir, 'auth.pem'));
  return { dir, card, software, servers, user, subject };
}

/** The subject of a PEM certificate as s_server's -www page prints it. */
function subjectOf(pem) {
  // With the compat name format, `openssl x509 -text` prints the subject as s_server's -www page
  // does (X509_print: `GN=Alice/serialNumber=...`).
  const text = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-text', '-nameopt', 'compat'], { encoding: 'utf8' });
  return text.match(/^\s*Subject:\s*(.+)$/m)[1].trim();
}

async function teardown(w, browser, files) {
  await browser?.close().catch(() => {});
  for (const f of files) f?.restore();
  for (const s of Object.values(w?.servers ?? {})) await s.stop();
  await w?.card.stop();
  if (w) cleanup(w.dir);
}

/**
 * The card tests, the same for both browsers: `b.load(url)` loads a page in the suite's browser;
 * `b.program` is how the PIN dialog names the browser; `b.failure` the browser's error code for a
 * cancelled PIN.
 */
function cardTests(get) {
  test('TLS 1.2 and 1.3: the server sees the card\'s certificate, the PIN is asked for each signature', async (t) => {
    const { w, b } = get();
    w.user.configure({ pin: '1234' });
    const historyBefore = w.user.history().length;
    for (const version of ['1.2', '1.3']) {
      const server = w.servers[version];
      const m = await mark(w, server);
      const r = await b.load(server.url);
      assert.ok(r.echo, `TLS ${version}: ${r.error ?? r.text}\n${server.output()}`);
      assert.equal(r.echo.subject, w.subject);
      assert.equal(r.echo.protocol, `TLSv${version}`);
      // P-384 card: ECDSA (with SHA-384 in TLS 1.3, where the curve fixes the hash).
      assert.equal(r.echo.signatureType, 'ECDSA');
      if (version === '1.3') assert.equal(r.echo.signingDigest, 'SHA384');
      t.diagnostic(`${b.name} TLS ${version}: ${r.echo.signatureType} ${r.echo.signingDigest}`);
      // Browsers may sign in connections they then drop (speculative ones, the page's icon), so a
      // page may cost more than one signature: at least one PIN ask for each handshake the server
      // verified, each the module's tls_login dialog. (eidlink-tls-client checks exactly one ask per
      // handshake: host/pkcs11-module/tests.)
      const { asks, verified } = await since(w, server, m, (c) => c.verified > 0 && c.asks.length >= c.verified);
      assert.ok(verified >= 1, server.output());
      assert.ok(asks.length >= verified, `${verified} handshakes: ${JSON.stringify(asks)}`);
      for (const ask of asks) {
        assert.equal(ask.purpose, 'tls_login');
        assert.match(ask.program ?? '', b.program);
        assert.equal(ask.certificate?.subject, 'Alice Specimen (Authentication)');
        assert.equal(ask.pin?.tries_left, 3);
      }
    }
    // Each signature is in the history.
    assert.ok(w.user.history().length > historyBefore, JSON.stringify(w.user.history()));
  });

  test('a wrong PIN, then the right one: the dialog asks again with the tries left', async () => {
    const { w, b } = get();
    // The right PIN for any further handshake of the page (its icon).
    w.user.configure({ answers: '1111,1234,1234,1234,1234' });
    const server = w.servers.wrongPin;
    const m = await mark(w, server);
    const r = await b.load(server.url);
    assert.ok(r.echo, r.error ?? r.text);
    assert.equal(r.echo.subject, w.subject);
    const { asks } = await since(w, server, m, (c) => c.verified > 0 && c.asks.length > c.verified);
    assert.ok(asks.length >= 2, JSON.stringify(asks));
    assert.equal(asks[0].pin?.tries_left, 3, JSON.stringify(asks[0]));
    assert.equal(asks[0].error, null, JSON.stringify(asks[0]));
    // The same signature's dialog again, saying the PIN was wrong and what is left.
    assert.deepEqual(asks[1].error, { kind: 'wrong_pin', tries_left: 2 }, JSON.stringify(asks[1]));
    assert.equal(asks[1].pin?.tries_left, 2, JSON.stringify(asks[1]));
  });

  test('cancel: the handshake fails and the browser shows its error', async (t) => {
    const { w, b } = get();
    w.user.configure({ answers: 'cancel' });
    const m = await mark(w, w.servers.cancel);
    const r = await b.load(w.servers.cancel.url);
    assert.equal(r.echo ?? null, null, `the page loaded after a cancel: ${r.text}`);
    assert.match(r.error ?? '', b.failure);
    t.diagnostic(`${b.name}, PIN cancelled: ${r.error.split('\n')[0]}`);
    const { asks } = await since(w, w.servers.cancel, m, (c) => c.asks.length > 0);
    assert.ok(asks.length >= 1, 'the PIN was asked');
    assert.equal(asks[0].purpose, 'tls_login');
    // The right PIN of the test before gave the card its tries back.
    assert.equal(asks[0].pin?.tries_left, 3, JSON.stringify(asks[0]));
  });

  test('card removed: no certificate to offer, the server refuses, the browser shows its error', async (t) => {
    const { w, b } = get();
    await w.card.remove();
    try {
      w.user.configure({ pin: '1234' });
      const r = await b.load(w.servers.removed.url);
      assert.equal(r.echo ?? null, null, `the page loaded without the card: ${r.text}`);
      assert.match(r.error ?? '', b.noCertificate);
      t.diagnostic(`${b.name}, card removed: ${r.error.split('\n')[0]}`);
    } finally {
      await w.card.insert();
    }
  });

  test('the Belgian 1.7 card (RSA): TLS 1.2 and 1.3, PSS padded by the card itself', async (t) => {
    const { w, b } = get();
    await w.card.stop();
    w.card = await VirtualCard.start(w.dir, 'belpic17');
    w.user.configure({ pin: '1234' });
    // The module looks at the readers again at most every 2 s, NSS at its slots about as often.
    await new Promise((r) => setTimeout(r, 3000));
    const m = await mark(w, w.servers.rsa12);
    const r = await b.load(w.servers.rsa12.url);
    assert.ok(r.echo, `${r.error ?? r.text}\n${w.servers.rsa12.output()}`);
    assert.equal(r.echo.subject, subjectOf(path.join(w.card.pkiDir, 'auth.pem')));
    // TLS 1.2 lets the client choose: Chromium signs PKCS#1 v1.5 (CKM_RSA_PKCS over the DigestInfo),
    // NSS in Firefox prefers RSA-PSS (rsa_pss_rsae_sha256, CKM_RSA_PKCS_PSS) once the token has it.
    assert.equal(r.echo.signatureType, b.name === 'Firefox' ? 'RSA-PSS' : 'RSA');
    t.diagnostic(`${b.name} TLS 1.2, Belgian 1.7 card: ${r.echo.signatureType} ${r.echo.signingDigest}`);
    const { asks } = await since(w, w.servers.rsa12, m, (c) => c.verified > 0 && c.asks.length >= c.verified);
    assert.ok(asks.length >= 1 && asks.every((a) => a.purpose === 'tls_login'), JSON.stringify(asks));

    const m13 = await mark(w, w.servers.rsa13);
    const r13 = await b.load(w.servers.rsa13.url);
    // TLS 1.3 signs RSA with PSS only (RFC 8446 §4.2.3): CKM_RSA_PKCS_PSS, the card's algorithm 20.
    assert.ok(r13.echo, `${r13.error ?? r13.text}\n${w.servers.rsa13.output()}`);
    assert.equal(r13.echo.subject, subjectOf(path.join(w.card.pkiDir, 'auth.pem')));
    assert.equal(r13.echo.protocol, 'TLSv1.3');
    assert.equal(r13.echo.signatureType, 'RSA-PSS');
    t.diagnostic(`${b.name} TLS 1.3, Belgian 1.7 card: ${r13.echo.signatureType} ${r13.echo.signingDigest}`);
    const { asks: asks13 } = await since(w, w.servers.rsa13, m13, (c) => c.verified > 0 && c.asks.length >= c.verified);
    assert.ok(asks13.length >= 1 && asks13.every((a) => a.purpose === 'tls_login'), JSON.stringify(asks13));
  });
}

if (BROWSERS.includes('chromium')) {
  describe('Chromium: TLS client-certificate login', () => {
    let w;
    let browser;
    let page;
    let policy;
    const b = {
      name: 'Chromium',
      program: /Chromium/,
      load: (url) => load(page, url),
      failure: /net::ERR_SSL_CLIENT_AUTH_SIGNATURE_FAILED/,
      // Chromium keeps the certificate it chose for the site: with the card gone the module cannot
      // sign (or, with nothing chosen yet, no certificate is offered and the server refuses).
      noCertificate: /net::ERR_(SSL_CLIENT_AUTH_SIGNATURE_FAILED|BAD_SSL_CLIENT_AUTH_CERT)/,
    };
    before(async () => {
      w = await world('chromium');
      const nss = new NssDb(path.join(w.user.home, '.pki/nssdb'));
      for (const s of Object.values(w.servers)) nss.trustServerCa(s.serverCa, `eidlink test server ${s.port}`);
      nss.importP12(w.software.p12);
      // Registered the way users get it: `eidlink install --user` adds the module to the NSS database.
      execFileSync(bin('eidlink'), ['install', '--user', '--only', 'nssdb', '--pkcs11-module', MODULE, '--nssdb', nss.dir],
        { env: w.user.env(), stdio: 'ignore' });
      assert.match(nss.modules(w.user.env()), new RegExp(`\\d+\\. eidlink\\n\\s*library name: ${MODULE}\\n`));
      const rule = ([name, server]) => JSON.stringify({
        pattern: server.url.replace(/\/$/, ''), filter: { ISSUER: { CN: name === 'software' ? SOFTWARE_CA_CN : CARD_CA_CN } },
      });
      policy = new SystemFile(path.join(CHROMIUM_POLICY_DIR, `eidlink-tls-test-${process.pid}.json`), () => JSON.stringify({
        AutoSelectCertificateForUrls: Object.entries(w.servers).map(rule),
      }));
      browser = await launchChromiumPlain(w.user.home, w.user.env());
      page = await browser.newPage();
    });
    after(async () => {
      if (page) await page.screenshot({ path: screenshotPath('tls-chromium-last') }).catch(() => {});
      await teardown(w, browser, [policy]);
      assert.equal(existsSync(policy?.file ?? path.join(CHROMIUM_POLICY_DIR, `eidlink-tls-test-${process.pid}.json`)), false);
    });

    test('the plumbing, with a software certificate: the policy picks it, the server echoes it', async () => {
      const r = await b.load(w.servers.software.url);
      assert.ok(r.echo, `${r.error ?? r.text}\n${w.servers.software.output()}`);
      assert.equal(r.echo.subject, w.software.subject);
      assert.equal(r.echo.protocol, 'TLSv1.3');
    });

    cardTests(() => ({ w, b }));

  });
}

if (BROWSERS.includes('firefox')) {
  describe('Firefox ESR: TLS client-certificate login', () => {
    let w;
    let browser;
    let page;
    let policy;
    const b = {
      name: 'Firefox',
      program: /Firefox/,
      load: (url) => load(page, url),
      failure: /NS_ERROR_MODULE_SECURITY, SSL_ERROR_HANDSHAKE_FAILED/,
      noCertificate: /NS_ERROR_MODULE_SECURITY, SSL_ERROR_(HANDSHAKE_FAILED|RX_CERTIFICATE_REQUIRED_ALERT)/,
    };
    before(async () => {
      w = await world('firefox');
      const profile = path.join(w.dir, 'firefox-profile');
      const nss = new NssDb(profile);
      for (const s of Object.values(w.servers)) nss.trustServerCa(s.serverCa, `eidlink test server ${s.port}`);
      nss.importP12(w.software.p12);
      // Registered the way the Debian package does it: `eidlink install --system` adds the
      // SecurityDevices policy to the policies.json Firefox reads (merged into one already there);
      // `eidlink uninstall --system` takes it out in the after hook, which checks that the file
      // (and eidlink's marker beside it) is as it was, and puts it back if not.
      policy = [FIREFOX_POLICIES, path.join(path.dirname(FIREFOX_POLICIES), '.eidlink-created')].map((f) => new SystemFile(f));
      execFileSync(bin('eidlink'), ['install', '--system', '--only', 'firefox-policy', '--pkcs11-module', MODULE],
        { env: w.user.env(), stdio: 'ignore' });
      const installed = JSON.parse(readFileSync(FIREFOX_POLICIES, 'utf8'));
      assert.equal(installed.policies?.SecurityDevices?.Add?.eidlink, MODULE, JSON.stringify(installed));
      browser = await launchFirefoxPlain(profile, w.user.env(), {
        'security.default_personal_cert': 'Select Automatically',
        // No icon request after each page: one handshake per page.
        'browser.chrome.site_icons': false,
      });
      page = await browser.newPage();
    });
    after(async () => {
      if (page) await page.screenshot({ path: screenshotPath('tls-firefox-last') }).catch(() => {});
      await browser?.close().catch(() => {});
      let leftBehind = [];
      if (policy) {
        execFileSync(bin('eidlink'), ['uninstall', '--system', '--only', 'firefox-policy'], { env: w.user.env(), stdio: 'ignore' });
        leftBehind = policy.filter((f) => !f.unchanged()).map((f) => f.file);
      }
      await teardown(w, browser, policy ?? []);
      assert.deepEqual(leftBehind, [], 'eidlink uninstall --system left the policy files as they were');
    });

    test('the plumbing, with a software certificate: selected automatically, the server echoes it', async () => {
      const r = await b.load(w.servers.software.url);
      assert.ok(r.echo, `${r.error ?? r.text}\n${w.servers.software.output()}`);
      assert.equal(r.echo.subject, w.software.subject);
    });

    cardTests(() => ({ w, b }));
  });
}
