// The web shell as a person sees it: served by a real nightjar, in Debian's Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, outputDir } from './server.mjs';
import { launch } from './browser.mjs';

let server;
let browser;
const out = path.join(outputDir(), 'browser');

before(async () => {
  await mkdir(out, { recursive: true });
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'nightjar exits cleanly on SIGTERM');
});

// A page that records what it loads and any error the browser reports (CSP included).
async function openPage(viewport = { width: 1280, height: 800 }, locale) {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  if (locale) await page.addInitScript((l) => localStorage.setItem('nightjar.language', l), locale);
  const problems = [];
  const origins = new Set();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  return { page, problems, origins };
}

test('the status page shows the server health in English, live', async () => {
  const { page, problems, origins } = await openPage();
  await page.goto(server.url + '/status');
  await page.getByRole('heading', { name: 'Server status' }).waitFor();
  await page.getByTestId('health-status').filter({ hasText: 'Healthy' }).waitFor();
  await page.getByTestId('health-live').filter({ hasText: 'Live' }).waitFor();
  assert.match(await page.getByTestId('health-version').textContent(), /^\d+\.\d+\.\d+$/);
  assert.match(await page.getByTestId('health-database').textContent(), /^OK \(schema \d+\)$/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  // Where the server connects, as its operator configured it, for anyone to read.
  const outbound = page.getByTestId('outbound');
  await outbound.waitFor();
  const listed = await outbound.textContent();
  assert.match(listed, /fcm\.googleapis\.com/);
  assert.match(listed, /public addresses only/);
  assert.match(listed, /none: mail stays with the operator/);
  await page.screenshot({ path: path.join(out, 'shell-en-desktop.png'), fullPage: true });
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  assert.deepEqual([...origins], [server.url], 'nothing loaded from any other origin');
  await page.close();
});

test('language switch turns the shell into Simplified Chinese and remembers it', async () => {
  const { page, problems } = await openPage();
  await page.goto(server.url + '/status');
  await page.getByRole('heading', { name: 'Server status' }).waitFor();
  await page.getByTestId('language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '服务器状态' }).waitFor();
  await page.getByTestId('health-status').filter({ hasText: '正常' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.screenshot({ path: path.join(out, 'shell-zh-CN-desktop.png'), fullPage: true });
  await page.reload();
  await page.getByRole('heading', { name: '服务器状态' }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('a server error is shown by its code in the person\'s language, and the form lives on', async () => {
  const { page, problems } = await openPage(undefined, 'zh-CN');
  await page.goto(server.url + '/signup');
  await page.locator('input[name="email"]').fill('not an e-mail address');
  await page.locator('input[name="password"]').fill('a long passphrase for the test');
  await page.locator('input[name="accept"]').check();
  await page.locator('button[type="submit"]').click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const text = await alert.textContent();
  assert.match(text, /[\u4e00-\u9fff]/, `the error is in Chinese: ${text}`);
  assert.doesNotMatch(text, /^[\x00-\x7f]+$/, 'no raw English server message');
  // The page is alive: the form can be corrected and sent again.
  await page.locator('input[name="email"]').fill('still not one');
  await page.locator('button[type="submit"]').click();
  await alert.waitFor();
  assert.deepEqual(
    problems.filter((p) => !p.startsWith('Failed to load resource')),
    [],
    'no exception in the page',
  );
  await page.close();
});

test('on a phone the navigation is a drawer and nothing overflows sideways', async () => {
  const { page, problems } = await openPage({ width: 390, height: 844 }, 'en');
  await page.goto(server.url + '/status');
  await page.getByTestId('health-status').filter({ hasText: 'Healthy' }).waitFor();
  const nav = page.getByRole('navigation');
  assert.equal(await nav.isVisible(), false, 'drawer starts closed');
  await page.getByRole('button', { name: 'Open menu' }).click();
  assert.equal(await nav.isVisible(), true, 'drawer opens');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: path.join(out, 'shell-en-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a deep link to an unknown page shows the app not-found page in both languages', async () => {
  const { page } = await openPage(undefined, 'en');
  const response = await page.goto(server.url + '/no/such/page');
  assert.equal(response.status(), 200, 'the server answers app paths with the app');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.getByTestId('language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '页面不存在' }).waitFor();
  await page.getByRole('link', { name: '返回首页' }).click();
  await page.getByRole('heading', { name: '你的摄像头，在你自己的服务器上' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.close();
});

test('the page is served with a strict CSP and long-lived caching for assets', async () => {
  const { page } = await openPage();
  const response = await page.goto(server.url + '/');
  const headers = response.headers();
  assert.match(headers['content-security-policy'], /^default-src 'self'/);
  assert.equal(headers['cache-control'], 'no-cache');
  const html = await response.text();
  const asset = html.match(/\/assets\/[^"]+\.js/)[0];
  const assetResponse = await fetch(server.url + asset);
  assert.equal(assetResponse.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(assetResponse.headers.get('content-type'), /^text\/javascript/);
  await page.close();
});
