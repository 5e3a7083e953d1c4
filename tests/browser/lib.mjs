// Test rig for the browser end-to-end tests: the virtual card (eidlink-vcard in the real pcscd's
// vpcd reader), the demo service over HTTPS, the native host registered for a throwaway browser
// profile, and Chromium or Firefox ESR with the eidlink extension loaded. Every piece is the real
// program; only the PIN dialog is the scripted PIN program (configured like a user would).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, rmdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN_DIR = process.env.EIDLINK_BIN_DIR ?? path.join(ROOT, 'target/debug');
export const bin = (name) => {
  const p = path.join(BIN_DIR, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run cargo build --workspace first`);
  return p;
};
export const SCREENSHOTS = path.join(ROOT, 'target/screenshots');
export const CHROMIUM = process.env.EIDLINK_CHROMIUM ?? '/usr/lib/chromium/chromium';
export const FIREFOX = process.env.EIDLINK_FIREFOX ?? '/usr/bin/firefox-esr';
// The unpacked extension builds (build.sh writes them); another build can be tested, e.g. one
// without a fix, to see a test fail.
const EXTENSION_DIST = process.env.EIDLINK_EXTENSION_DIST ?? path.join(ROOT, 'extension/dist');

/**
 * EIDLINK_INSTALLED=1 (installer/test.sh, after `dpkg -i` of the eidlink package): the browsers
 * use what the package installed and nothing of the development setup: the host through the
 * system native-messaging manifests (no per-user or per-profile registration is written), and
 * the extension the package offers: Debian's Chromium started through its /usr/bin/chromium
 * wrapper, which loads /usr/share/chromium/extensions/*, and Firefox's system add-on directory
 * /usr/share/mozilla/extensions/. The virtual card, the demo service and the scripted PIN program
 * still come from target/debug.
 */
export const INSTALLED = process.env.EIDLINK_INSTALLED === '1';
export const INSTALLED_HOST = '/usr/bin/eidlink-host';
const SYSTEM_MANIFESTS = {
  chromium: '/etc/chromium/native-messaging-hosts/org.eidlink.host.json',
  firefox: '/usr/lib/mozilla/native-messaging-hosts/org.eidlink.host.json',
};

/** Checks that the package registered the installed host for `browser`; returns the manifest. */
export function assertSystemManifest(browser) {
  const file = SYSTEM_MANIFESTS[browser];
  if (!existsSync(file)) throw new Error(`the package did not write ${file}`);
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  if (manifest.name !== 'org.eidlink.host' || manifest.path !== INSTALLED_HOST) {
    throw new Error(`${file} does not register ${INSTALLED_HOST}: ${JSON.stringify(manifest)}`);
  }
  if (!existsSync(INSTALLED_HOST)) throw new Error(`${INSTALLED_HOST} is not installed`);
  return manifest;
}

export function tempDir(name) {
  return mkdtempSync(path.join(tmpdir(), `eidlink-browser-${name}-`));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits for `cond()` to be truthy (polling), or throws naming `what`. */
export async function waitFor(cond, what, timeoutMs = 15000) {
  const start = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A child process whose output is kept for error messages, killed by `stop()`. */
function start(program, args, opts = {}) {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = new Promise((r) => child.on('exit', r));
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([child.exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The virtual card in the vpcd reader, driven through its control socket. */
export class VirtualCard {
  static async start(dir, profile = 'belpic18', extra = []) {
    const pkiDir = path.join(dir, `pki-${profile}`);
    execFileSync(bin('eidlink-vcard'), ['--profile', profile, '--export-pki', pkiDir, ...extra], { stdio: 'ignore' });
    const socket = path.join(dir, `vcard-${profile}.sock`);
    const child = start(bin('eidlink-vcard'), [
      '--profile', profile, '--control', socket, '--apdu-log', path.join(dir, `apdu-${profile}.log`), ...extra,
    ]);
    const card = new VirtualCard(child, socket, pkiDir);
    await waitFor(() => existsSync(socket), 'the virtual card control socket');
    // pcscd polls vpcd about every 400 ms: wait until it sees the card.
    await waitFor(() => card.pcscSeesCard(), 'pcscd to see the virtual card');
    return card;
  }

  constructor(child, socket, pkiDir) {
    this.child = child;
    this.socket = socket;
    this.pkiDir = pkiDir;
  }

  pcscSeesCard() {
    try {
      return /ATR/.test(execFileSync(bin('eidlink'), ['readers'], { encoding: 'utf8' }));
    } catch {
      return false;
    }
  }

  /** Sends one control line; resolves with the reply line (`ok ...`), rejects on `err ...`. */
  control(line) {
    return new Promise((resolve, reject) => {
      const c = createConnection(this.socket);
      let buf = '';
      c.on('data', (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          c.end();
          const reply = buf.slice(0, nl);
          if (reply.startsWith('ok')) resolve(reply.slice(3));
          else reject(new Error(`virtual card: ${line}: ${reply}`));
        }
      });
      c.on('error', reject);
      c.write(`${line}\n`);
    });
  }

  async remove() {
    await this.control('remove');
    await waitFor(() => !this.pcscSeesCard(), 'pcscd to see the card removed');
  }

  async insert() {
    await this.control('insert');
    await waitFor(() => this.pcscSeesCard(), 'pcscd to see the card inserted');
  }

  async stop() {
    await this.control('quit').catch(() => {});
    await Promise.race([this.child.exited, sleep(2000)]);
    await stop(this.child);
  }
}

/**
 * A SoftHSM2 token (eidlink-softhsm: P-256 authentication key, P-384 signing key, certificates from
 * the virtual card's test PKI) and that PKI exported, with no card in the reader.
 */
export class SoftHsmToken {
  static start(dir) {
    const pkiDir = path.join(dir, 'pki-softhsm');
    execFileSync(bin('eidlink-vcard'), ['--profile', 'belpic18', '--export-pki', pkiDir], { stdio: 'ignore' });
    const conf = execFileSync(bin('eidlink-softhsm'), ['--dir', path.join(dir, 'softhsm')], { encoding: 'utf8' }).trim();
    return Object.assign(new SoftHsmToken(), { pkiDir, conf });
  }
}

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** The demo public service on an ephemeral HTTPS port, trusting the virtual card's CA. */
export class DemoService {
  static async start(dir, pkiDir) {
    const cert = path.join(dir, 'service-cert.pem');
    const child = start(bin('eidlink-demo-service'), [
      '--listen', '127.0.0.1:0',
      '--trust-ca', path.join(pkiDir, 'root.der'),
      '--intermediate', path.join(pkiDir, 'ca.der'),
      '--page-module', path.join(ROOT, 'extension/page/eidlink.js'),
      '--write-cert', cert,
    ]);
    const url = await waitFor(() => child.output.match(/listening on (https:\/\/\S+)/)?.[1], 'the demo service to listen');
    return Object.assign(new DemoService(), { child, url: url.endsWith('/') ? url : `${url}/`, cert });
  }

  async stop() {
    await stop(this.child);
  }
}

/**
 * The host's user: a config dir (PIN program, timeout) and a data dir (history, log), passed to the
 * browser's environment, which the host inherits.
 */
export class HostUser {
  constructor(dir) {
    this.home = dir;
    this.config = path.join(dir, 'config');
    this.data = path.join(dir, 'data');
    mkdirSync(path.join(this.config, 'eidlink'), { recursive: true });
    this.dialogLog = path.join(dir, 'dialog.log');
    this.configure({});
  }

  /**
   * Writes the host config: the scripted PIN program answering `pin`/`signPin`, or `answers`;
   * `extra` is appended (PKCS#11 settings).
   */
  configure({ pin = '1234', signPin = '1234', answers = null, timeout = 60, extra = '' }) {
    const args = answers ? ['--answers', answers] : ['--pin', pin, '--sign-pin', signPin];
    const program = [bin('eidlink-pin-script'), ...args, '--record', this.dialogLog];
    writeFileSync(
      path.join(this.config, 'eidlink/config.toml'),
      `pin-program = ${JSON.stringify(program)}\nlogging = true\ntimeout-seconds = ${timeout}\n${extra}`,
    );
  }

  env() {
    return {
      ...process.env, ...(this.extraEnv ?? {}), HOME: this.home, XDG_CONFIG_HOME: this.config, XDG_DATA_HOME: this.data,
    };
  }

  /**
   * `eidlink install --user` for this browser, into the profile for Chromium, $HOME for Firefox.
   * With EIDLINK_INSTALLED=1 nothing is written: the package's system manifest must be there, and
   * no per-user one may be (the host the browser finds is then the installed one).
   */
  register(browser, profileDir) {
    if (INSTALLED) {
      assertSystemManifest(browser);
      const userDir = profileDir
        ? path.join(profileDir, 'NativeMessagingHosts')
        : path.join(this.home, '.mozilla/native-messaging-hosts');
      if (existsSync(userDir)) throw new Error(`${userDir} exists: the test must use the system manifest only`);
      return;
    }
    const args = ['install', '--user', '--browser', browser, '--host', bin('eidlink-host')];
    if (profileDir) args.push('--profile-dir', profileDir);
    execFileSync(bin('eidlink'), args, { env: this.env(), stdio: 'ignore' });
  }

  /** The dialogs the scripted PIN program was started for so far (one `PID` line each). */
  dialogs() {
    if (!existsSync(this.dialogLog)) return [];
    return readFileSync(this.dialogLog, 'utf8').split('\n').filter((l) => l.startsWith('PID '));
  }

  /** The asks the scripted dialog was sent, in order (its record holds every line it received). */
  asks() {
    if (!existsSync(this.dialogLog)) return [];
    return readFileSync(this.dialogLog, 'utf8').split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)).filter((r) => r.type === 'ask');
  }

  history() {
    const file = path.join(this.data, 'eidlink/history.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  }
}

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--host-resolver-rules=MAP insecure.eidlink.test 127.0.0.1',
];

/** Chromium with the extension unpacked into a throwaway profile that has the host registered. */
export async function launchChromium(user, { headless = true } = {}) {
  const profile = path.join(user.home, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  user.register('chromium', profile);
  if (INSTALLED) {
    // Debian's wrapper adds --load-extension for each directory in /usr/share/chromium/extensions
    // (the package's symlink to /usr/share/eidlink/extension/chromium); puppeteer's own
    // --disable-extensions would turn that off.
    return puppeteer.launch({
      browser: 'chrome',
      executablePath: process.env.EIDLINK_CHROMIUM ?? '/usr/bin/chromium',
      headless,
      pipe: true,
      userDataDir: profile,
      ignoreDefaultArgs: ['--disable-extensions'],
      acceptInsecureCerts: true,
      args: CHROMIUM_ARGS,
      env: user.env(),
    });
  }
  return puppeteer.launch({
    browser: 'chrome',
    executablePath: CHROMIUM,
    headless,
    pipe: true,
    userDataDir: profile,
    enableExtensions: [path.join(EXTENSION_DIST, 'chromium')],
    acceptInsecureCerts: true,
    args: CHROMIUM_ARGS,
    env: user.env(),
  });
}

/** Firefox ESR (WebDriver BiDi) with the extension installed as a temporary add-on. */
export async function launchFirefox(user, { headless = true } = {}) {
  user.register('firefox');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless,
    acceptInsecureCerts: true,
    env: user.env(),
    extraPrefsFirefox: {
      // The insecure-context page's made-up host name resolves to the loopback test server.
      'network.dns.localDomains': 'insecure.eidlink.test',
      'network.proxy.allow_hijacking_localhost': false,
      // puppeteer limits add-ons to the profile and application scopes (5); the package's add-on
      // is in the system scope (8), which Firefox enables by default.
      ...(INSTALLED ? { 'extensions.enabledScopes': 15 } : {}),
    },
  });
  if (!INSTALLED) await browser.installExtension(path.join(EXTENSION_DIST, 'firefox'));
  return browser;
}

/** A plain-http page on a non-loopback name: not a secure context, so the extension must refuse. */
export async function insecureSite() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>insecure</title><p>plain http');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://insecure.eidlink.test:${server.address().port}/` };
}

/**
 * A second site over HTTPS, for the frame tests: one server, two origins, https://127.0.0.1:P (the
 * hosting site) and https://localhost:P (another site). Pages: `/page` (empty, frameable) and
 * `/user-content` (served with `Content-Security-Policy: sandbox allow-scripts`, as a site serves
 * its users' uploads: the document's origin is opaque, its URL's the site's). The certificate is a
 * throwaway self-signed one made with openssl; the browsers run with acceptInsecureCerts.
 */
export class FrameSite {
  static async start(dir) {
    const key = path.join(dir, 'frame-site-key.pem');
    const cert = path.join(dir, 'frame-site-cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', '/CN=eidlink frame test site', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const page = (title) => `<!doctype html><meta charset="utf-8"><title>${title}</title><p>${title}`;
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const url = new URL(req.url, 'https://x');
      const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
      if (url.pathname === '/page') {
        res.writeHead(200, headers);
        res.end(page('page'));
      } else if (url.pathname === '/user-content') {
        res.writeHead(200, { ...headers, 'content-security-policy': 'sandbox allow-scripts' });
        res.end(page('user content'));
      } else {
        res.writeHead(404, headers);
        res.end(page('not found'));
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    return Object.assign(new FrameSite(), {
      server, hosting: `https://127.0.0.1:${port}`, other: `https://localhost:${port}`,
    });
  }

  stop() {
    this.server.closeAllConnections?.();
    this.server.close();
  }
}

/**
 * The pids of the eidlink-host processes the browser started (its descendants), so that hosts of
 * other browsers on the machine are not counted.
 */
export function hostProcesses(browser) {
  const root = browser.process()?.pid;
  if (!root) throw new Error('the browser process is not known');
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' }).trim().split('\n')
    .map((l) => l.trim().split(/\s+/)).map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
  const ours = new Set([root]);
  // Parents come before children in ps's pid order only mostly: repeat until nothing is added.
  for (let grown = true; grown;) {
    grown = false;
    for (const r of rows) {
      if (!ours.has(r.pid) && ours.has(r.ppid)) {
        ours.add(r.pid);
        grown = true;
      }
    }
  }
  return rows.filter((r) => ours.has(r.pid) && r.comm === 'eidlink-host').map((r) => r.pid);
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

// ---- TLS client-certificate login (tls.test.mjs) ----

/** OpenSSL, with its stderr in the error when it fails. */
function openssl(args, cwd) {
  try {
    return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`openssl ${args[0]}: ${e.stderr ?? e.message}`);
  }
}

/**
 * `openssl s_server -www` on loopback demanding a client certificate that chains to `clientCa`
 * (PEM file), TLS `version` ('1.2' or '1.3') only, with a server certificate for IP 127.0.0.1
 * from a test server CA made here (`serverCa`, which the browsers trust). No session cache and no
 * tickets: every page load is a full handshake with a fresh client signature. The same server as
 * tests/src/tls.rs (eidlink_tests::tls), whose -www page `echo()` reads.
 */
export class TlsServer {
  static async start(dir, clientCa, version) {
    const d = mkdtempSync(path.join(dir, `tls${version}-`));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    // Each server its own CA name and serial: NSS refuses two certificates with the same issuer
    // and serial (SEC_ERROR_REUSED_ISSUER_AND_SERIAL), and a browser meets all the servers.
    const unique = randomBytes(8).toString('hex');
    openssl(['req', '-x509', ...ec, '-days', '2', '-subj', `/O=eidlink test/CN=eidlink TEST TLS server CA ${unique}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', 'server-ca.key', '-out', 'server-ca.pem'], d);
    openssl(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], d);
    writeFileSync(path.join(d, 'server.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'server-ca.pem', '-CAkey', 'server-ca.key', '-set_serial', `0x${unique}`,
      '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'], d);
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = start('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, version === '1.2' ? '-tls1_2' : '-tls1_3',
        '-cert', 'server.pem', '-key', 'server.key', '-CAfile', clientCa, '-Verify', '2', '-verify_return_error', '-www',
        '-no_cache', '-num_tickets', '0', '-no_ticket'], { cwd: d });
      try {
        await waitFor(() => /^ACCEPT/m.test(child.output) || child.exitCode !== null, 'openssl s_server to listen', 20000);
      } catch (e) {
        await stop(child);
        throw e;
      }
      if (child.exitCode === null) {
        return Object.assign(new TlsServer(), {
          child, dir: d, port, version, url: `https://127.0.0.1:${port}/`, serverCa: path.join(d, 'server-ca.pem'),
        });
      }
      // The port was taken between freePort() and the bind: try another.
      if (attempt >= 3) throw new Error(`openssl s_server did not start: ${child.output}`);
    }
  }

  /** What s_server printed so far (`depth=0 <subject>` per verified client certificate, errors). */
  output() {
    return this.child.output;
  }

  async stop() {
    await stop(this.child);
  }
}

/** A loopback TCP port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * What `openssl s_server -www` reports of the connection that loaded the page: the protocol, the
 * client certificate's subject and the client's signature algorithm and hash (its
 * CertificateVerify); null when the page shows no client certificate.
 */
export function echo(text) {
  const field = (name) => text.match(new RegExp(`^\\s*${name}\\s*:\\s*(.+)$`, 'm'))?.[1]?.trim() ?? null;
  const client = text.split('Client certificate')[1];
  const subject = client?.match(/^\s*Subject:\s*(.+)$/m)?.[1]?.trim();
  if (!subject) return null;
  return {
    protocol: field('Protocol'), subject, signatureType: field('Peer signature type'),
    signingDigest: field('Peer signing digest'),
  };
}

/** A client certificate and key from a software CA made here, as PKCS#12 with an empty password. */
export function softwareClient(dir) {
  const d = mkdtempSync(path.join(dir, 'software-client-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '2', '-subj', '/O=eidlink test/CN=eidlink TEST software client CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', 'ca.key', '-out', 'ca.pem'], d);
  openssl(['req', ...ec, '-subj', '/C=BE/CN=Software Specimen (Authentication)', '-keyout', 'client.key',
    '-out', 'client.csr'], d);
  writeFileSync(path.join(d, 'client.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2', '-days', '2',
    '-extfile', 'client.ext', '-out', 'client.pem'], d);
  openssl(['pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-passout', 'pass:', '-out', 'client.p12'], d);
  return { ca: path.join(d, 'ca.pem'), p12: path.join(d, 'client.p12'), subject: 'C=BE, CN=Software Specimen (Authentication)' };
}

/** An NSS shared database (`sql:` cert9.db/key4.db/pkcs11.txt) at `dir`, created empty. */
export class NssDb {
  constructor(dir) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    if (!existsSync(path.join(dir, 'cert9.db'))) this.run('certutil', ['-N', '--empty-password']);
  }

  run(tool, args, env = process.env) {
    try {
      return execFileSync(tool, [...args, '-d', `sql:${this.dir}`], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`${tool} ${args.join(' ')}: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
  }

  /** Trusts `pem` as a CA of TLS servers. */
  trustServerCa(pem, nickname) {
    this.run('certutil', ['-A', '-t', 'C,,', '-n', nickname, '-i', pem]);
  }

  /** Imports a PKCS#12 with an empty password (a client certificate with its key). */
  importP12(p12) {
    execFileSync('pk12util', ['-i', p12, '-d', `sql:${this.dir}`, '-W', ''], { stdio: 'ignore' });
  }

  /** The modules NSS lists (`modutil -list`). */
  modules(env) {
    return execFileSync('modutil', ['-list', '-dbdir', `sql:${this.dir}`], { encoding: 'utf8', env });
  }
}

/**
 * A file where the system reads it (a browser policy) that a test writes, itself (`merge(old)`
 * makes the new content from the old one, null when there was none) or through a program (no
 * `merge`: the file is only noted as it is). `restore()` removes it, or puts back the file that was
 * there, and the directories made for it (when empty): in an after hook, and at exit if the test
 * dies first. `unchanged()` tells whether the file is as it was (directories aside: `eidlink
 * uninstall --system` leaves the empty /etc/firefox/policies it made).
 */
export class SystemFile {
  constructor(file, merge = null) {
    this.file = file;
    this.old = existsSync(file) ? readFileSync(file) : null;
    this.createdDirs = [];
    for (let d = path.dirname(file); !existsSync(d); d = path.dirname(d)) this.createdDirs.unshift(d);
    this.onExit = () => this.restore();
    process.on('exit', this.onExit);
    if (merge) {
      if (this.createdDirs.length) mkdirSync(this.createdDirs.at(-1), { recursive: true });
      writeFileSync(file, merge(this.old === null ? null : this.old.toString('utf8')));
    }
  }

  unchanged() {
    const now = existsSync(this.file) ? readFileSync(this.file) : null;
    return now === null ? this.old === null : this.old !== null && now.equals(this.old);
  }

  restore() {
    if (this.file === null) return;
    if (this.old === null) rmSync(this.file, { force: true });
    else writeFileSync(this.file, this.old);
    for (const d of [...this.createdDirs].reverse()) {
      try {
        rmdirSync(d); // only if empty: somebody else may have put a file there meanwhile
      } catch {}
    }
    process.off('exit', this.onExit);
    this.file = null;
  }
}

/** Chromium's managed policy directory (Debian's Chromium reads every .json there at start). */
export const CHROMIUM_POLICY_DIR = '/etc/chromium/policies/managed';
/**
 * The policies.json Firefox ESR reads: /etc/firefox/policies/policies.json (its system directory,
 * SysConfD, checked first: a file there wins), else <install>/distribution/policies.json. Both
 * work with Debian's firefox-esr 153 (checked with Certificates.Install); `eidlink install
 * --system` writes the first, and so do the tests.
 */
export const FIREFOX_POLICIES = '/etc/firefox/policies/policies.json';

/** Chromium with a given HOME (its NSS database is $HOME/.pki/nssdb), no extension. */
export async function launchChromiumPlain(home, env) {
  const profile = path.join(home, 'chromium-tls-profile');
  mkdirSync(profile, { recursive: true });
  return puppeteer.launch({
    browser: 'chrome', executablePath: CHROMIUM, headless: true, pipe: true, userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
    env: { ...env, HOME: home },
  });
}

/** Firefox ESR on the profile `profile` (an NSS database the test prepared), no extension. */
export async function launchFirefoxPlain(profile, env, prefs = {}) {
  return puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true, userDataDir: profile, env,
    extraPrefsFirefox: prefs,
  });
}
