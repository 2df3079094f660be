// A demo server (`nightjar serve --demo`, two simulated cameras) and Debian's Chromium, with
// what the app's browser tests do over and over: open a page in a language, sign in,
// choose a language, call the API as the page, find a camera, visit every page.
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch } from './browser.mjs';

export const signedOut = ['/', '/signin', '/signup', '/forgot-password', '/privacy', '/status', '/verify?token=x', '/reset-password?token=x', '/no/such/page'];

export async function demoApp({ config = '', browserArgs = [] } = {}) {
  const server = await startServer({ extraArgs: ['--demo'], config });
  let login;
  for (let i = 0; i < 100 && !login; ++i) {
    login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
    if (!login) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(login, 'the demo server prints its login');
  const browser = await launch({ extraArgs: browserArgs });
  const app = { server, login, browser };
  // A page in its own context (its own language and storage), failing the test on any page
  // exception, and on any request that leaves the server's own origin (policy items 32-33:
  // no third-party script, font, analytics or advertising: the app talks to its server only).
  const origin = new URL(server.url).origin;
  async function open(viewport = { width: 1280, height: 900 }, language = 'en', context = browser.context) {
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    await page.addInitScript((lang) => localStorage.setItem('nightjar.language', lang), language);
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (r) => {
      const url = r.url();
      if (url.startsWith('data:') || url.startsWith('blob:')) return;
      if (new URL(url).origin !== origin) problems.push(`a request left the server's origin: ${url}`);
    });
    return { page, problems };
  }

  async function signIn(page, email = login[1], password = login[2]) {
    await page.goto(`${server.url}/signin`);
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  }

  // The signed-in person's language, as they would choose it (kept in their profile, so it
  // is put back to English by the tests that change it).
  async function useLanguage(page, language) {
    const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/me') && r.request().method() === 'PATCH');
    await page.getByTestId('language').selectOption(language);
    await saved;
  }

  // The API as the signed-in page (cookie and CSRF token).
  function call(page, method, url, body) {
    return page.evaluate(
      async ([m, u, b]) => {
        const csrf = decodeURIComponent((document.cookie.match(/(?:^|;\s*)nj_csrf=([^;]+)/) ?? [])[1] ?? '');
        const r = await fetch(`/api/v1${u}`, {
          method: m,
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: b === undefined ? undefined : JSON.stringify(b),
        });
        const text = await r.text();
        return { status: r.status, json: text ? JSON.parse(text) : null };
      },
      [method, url, body],
    );
  }

  // The camera of that name, once it is listed and online (the demo's come up with the server).
  async function deviceNamed(page, name) {
    for (let i = 0; ; ++i) {
      const r = await call(page, 'GET', '/devices');
      const d = r.json.devices.find((x) => x.name === name);
      if ((d && d.online) || i >= 100) return d;
      await page.waitForTimeout(200);
    }
  }

  async function openCamera(page, name) {
    const d = await deviceNamed(page, name);
    await page.goto(`${server.url}/devices/${d.id}`);
    await page.getByTestId('device-name').filter({ hasText: name }).waitFor();
    return d;
  }

  // Waits until the open camera page plays live; if it does not, says what the page shows.
  async function untilLive(page) {
    await page
      .getByTestId('live-state')
      .filter({ hasText: 'Live' })
      .waitFor({ timeout: 15000 })
      .catch(async (e) => {
        throw new Error(`${e}\nshown: ${await page.locator('main').textContent()}\n${server.log().slice(-3000)}`);
      });
  }

  // Every page of the app, signed out and signed in.
  async function pages(page) {
    const garden = await deviceNamed(page, 'Garden');
    return {
      signedIn: [
        '/devices',
        '/devices/add',
        '/devices/grid',
        '/shares',
        '/events',
        '/account',
        '/account/notifications',
        '/account/security',
        '/account/cancel',
        '/account/privacy',
        '/demo/outbox',
        '/live',
        `/devices/${garden.id}#settings`,
        `/devices/${garden.id}#sdcard`,
        `/devices/${garden.id}#sharing`,
        `/devices/${garden.id}#activity`,
        `/devices/${garden.id}#info`,
        `/devices/${garden.id}/playback`,
      ],
    };
  }

  async function settle(page, url) {
    await page.goto(`${server.url}${url}`);
    await page.locator('main h1, main [data-testid="device-name"], main p').first().waitFor();
    await page.waitForTimeout(400);
  }

  Object.assign(app, { open, signIn, useLanguage, call, deviceNamed, openCamera, untilLive, pages, settle });
  return app;
}
