// Lighthouse (mobile emulation, its default throttling) on the camera list and a camera
// page of a `nightjar serve --demo`, signed in as the demo account, with Debian's Chromium.
// Prints each page's category scores and the JavaScript each page loads (gzipped), as
// docs/BENCHMARKS.md records them.
//   NJ_BIN=build/release/bin/nightjar node web/scripts/lighthouse.mjs
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { chromium } from 'playwright-core';
import { gzipSync } from 'node:zlib';
import { startServer } from '../tests/server.mjs';

const server = await startServer({ extraArgs: ['--demo'] });
let login;
for (let i = 0; i < 100 && !login; ++i) {
  login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  if (!login) await new Promise((r) => setTimeout(r, 100));
}
// One Chromium for everything: signed in as the demo account in its own profile (so the
// page has its session and CSRF cookies as a person's browser would), then measured.
const chrome = await chromeLauncher.launch({
  chromePath: process.env.NJ_CHROMIUM ?? '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu'],
});
const browser = await chromium.connectOverCDP(`http://127.0.0.1:${chrome.port}`);
const page = await browser.contexts()[0].newPage();
await page.goto(`${server.url}/signin`);
await page.locator('input[name="email"]').fill(login[1]);
await page.locator('input[name="password"]').fill(login[2]);
await page.locator('button[type="submit"]').click();
await page.waitForURL((u) => u.pathname === '/devices');
let devices = [];
for (let i = 0; i < 100 && devices.filter((d) => d.online).length < 2; ++i) {
  devices = (await (await page.request.get(`${server.url}/api/v1/devices`)).json()).devices;
  await page.waitForTimeout(200);
}
await page.close();
const pages = { 'camera list': '/devices', 'camera page': `/devices/${devices.find((d) => d.name === 'Front door').id}` };
const rows = [];
for (const [name, path] of Object.entries(pages)) {
  const result = await lighthouse(`${server.url}${path}`, {
    port: chrome.port,
    output: 'json',
    logLevel: 'error',
    disableStorageReset: true, // keep the session
    onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'],
  });
  const lhr = result.lhr;
  const scripts = lhr.audits['network-requests'].details.items.filter((r) => r.resourceType === 'Script');
  let js = 0;
  for (const s of scripts) {
    const body = await (await fetch(s.url)).arrayBuffer();
    js += gzipSync(Buffer.from(body), { level: 9 }).length;
  }
  for (const e of lhr.audits['errors-in-console'].details?.items ?? []) {
    console.log(`${name}: console: ${e.source} ${e.description ?? ''} ${e.sourceLocation?.url ?? e.url ?? ''}`);
  }
  const score = (c) => Math.round(lhr.categories[c].score * 100);
  rows.push({
    page: name,
    performance: score('performance'),
    accessibility: score('accessibility'),
    'best-practices': score('best-practices'),
    seo: score('seo'),
    'FCP ms': Math.round(lhr.audits['first-contentful-paint'].numericValue),
    'LCP ms': Math.round(lhr.audits['largest-contentful-paint'].numericValue),
    'TBT ms': Math.round(lhr.audits['total-blocking-time'].numericValue),
    CLS: Number(lhr.audits['cumulative-layout-shift'].numericValue.toFixed(3)),
    'JS KB gz': (js / 1024).toFixed(1),
    failing: Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
      .map((a) => a.id)
      .join(' '),
  });
}
await browser.close();
chrome.kill();
await server.stop();
console.table(rows);
console.log(`lighthouse ${(await import('lighthouse/package.json', { with: { type: 'json' } })).default.version}`);
