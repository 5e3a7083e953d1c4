// The main job's browser part (scripts/demo.sh): the virtual card, the demo service, and Chromium
// with the eidlink extension and the real host. Headless with a scripted PIN by default: it logs in,
// signs the enrollment contract, prints what the service verified and saves screenshots. With
// --interactive (scripts/demo.sh passes it when a display and a terminal are there) it opens a real
// browser window on the service for a person to click through, with the real PIN dialog (PIN 1234),
// and prints what the service verified when the window is closed.
import { VirtualCard, DemoService, HostUser, launchChromium, screenshotPath, tempDir, cleanup } from './lib.mjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * GET /api/last in the page, with its session cookie: what the service verified for this browser's
 * session (the service shows it to nobody else).
 */
function lastVerified(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/last');
    return res.ok ? res.json() : { error: (await res.json()).error };
  });
}

/**
 * Interactive: the window (and the session with it) is gone when the results are printed, so each
 * verified login or signature of any of its pages is read then; the last read is kept.
 */
function watchVerified(browser) {
  const seen = { last: null };
  const watch = (page) =>
    page.on('response', (res) => {
      const { pathname } = new URL(res.url());
      if (res.ok() && ['/api/auth/login', '/api/sign/finish'].includes(pathname)) {
        lastVerified(page)
          .then((v) => {
            if (v?.login) seen.last = v;
          })
          .catch(() => {});
      }
    });
  browser.pages().then((pages) => pages.forEach(watch));
  browser.on('targetcreated', (t) => t.page().then((p) => p && watch(p)).catch(() => {}));
  return seen;
}

const interactive = process.argv.includes('--interactive');
const dir = tempDir('demo');
const card = await VirtualCard.start(dir, 'belpic18');
const service = await DemoService.start(dir, card.pkiDir);
const user = new HostUser(dir);
let browser;
let failed = false;

const step = (s) => console.log(`\x1b[1m==> ${s}\x1b[0m`);

async function outcome(page) {
  await page.waitForFunction(
    () => ['ok', 'error'].includes(document.querySelector('#status')?.dataset.state),
    { timeout: 120000 },
  );
  return page.$eval('#status', (el) => ({ state: el.dataset.state, code: el.dataset.code, text: el.textContent.trim() }));
}

try {
  if (interactive) {
    // No pin-program: the host runs the real PIN dialog installed next to it.
    writeFileSync(path.join(user.config, 'eidlink/config.toml'), 'timeout-seconds = 120\n');
    browser = await launchChromium(user, { headless: false });
    const verified = watchVerified(browser);
    const [page] = await browser.pages();
    await page.goto(service.url);
    step(`a browser window is open on ${service.url}: log in and sign (PIN 1234); close the window to finish`);
    await new Promise((resolve) => browser.on('disconnected', resolve));
    step('what the service verified');
    console.log(verified.last ? JSON.stringify(verified.last, null, 2) : '    (no verified login)');
  } else {
    browser = await launchChromium(user);
    const page = await browser.newPage();
    step(`Chromium (headless) opens ${service.url} and clicks "Se connecter avec ma carte d'identité"`);
    await page.goto(`${service.url}?lang=fr`);
    await page.click('#login');
    const login = await outcome(page);
    await page.screenshot({ path: screenshotPath('demo-1-logged-in'), fullPage: true });
    if (login.state !== 'ok') throw new Error(`login failed: ${login.code}: ${login.text}`);
    console.log(`    page: ${login.text}`);
    step('the contract page: "Signer mon contrat d\'adhésion"');
    await page.goto(`${service.url}contract?lang=fr`);
    await page.click('#sign');
    const signed = await outcome(page);
    await page.screenshot({ path: screenshotPath('demo-2-contract-signed'), fullPage: true });
    if (signed.state !== 'ok') throw new Error(`signing failed: ${signed.code}: ${signed.text}`);
    console.log(`    page: ${signed.text}`);
    step('what the service verified (with eidlink-verifier, against the virtual card\'s CA)');
    console.log(JSON.stringify(await lastVerified(page), null, 2));
    step(`screenshots: ${screenshotPath('demo-1-logged-in')}, ${screenshotPath('demo-2-contract-signed')}`);
  }
} catch (e) {
  failed = true;
  console.error(`demo failed: ${e.message}`);
} finally {
  await browser?.close().catch(() => {});
  await service.stop();
  await card.stop();
  cleanup(dir);
}
process.exit(failed ? 1 : 0);
