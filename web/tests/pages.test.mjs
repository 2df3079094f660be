// Every page of the app (issue #13), signed out and signed in, at 360, 390 and 1280 px in
// English and Chinese: nothing scrolls sideways, every page names itself in the title, and
// axe-core finds no serious or critical accessibility violation. Screenshots of each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { outputDir } from './server.mjs';
import { launch } from './browser.mjs';
import { demoApp, signedOut } from './demo-app.mjs';

let app;
let server;
let elsewhere;
let open, signIn, useLanguage, call, pages, settle;
const out = path.join(outputDir(), 'browser', 'app');

before(async () => {
  await mkdir(out, { recursive: true });
  // Two data regions, so that the sign-up form and the privacy centre show their choice.
  elsewhere = await mkdtemp(path.join(tmpdir(), 'nj-pages-eu-'));
  app = await demoApp({
    config: `[regions.default]\nname = "Home"\n[regions.eu]\nname = "Europe"\nroot = "${elsewhere}"\n`,
  });
  ({ server, open, signIn, useLanguage, call, pages, settle } = app);
});

after(async () => {
  await app?.browser.close();
  assert.equal(await server?.stop(), 0);
  if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
});

test('every page fits 360 and 390 px screens (and a desktop) in both languages, and has a title', async () => {
  const names = new Set();
  for (const language of ['en', 'zh-CN']) {
    for (const width of [360, 390, 1280]) {
      // A fresh browser each time: signed out, in this language only.
      const other = await launch();
      const { page, problems } = await open({ width, height: 800 }, language, other.context);
      const shot = (url) =>
        width === 360 ? null : page.screenshot({ path: path.join(out, `page-${language}-${width}-${url.replace(/\W+/g, '_')}.png`), fullPage: true });
      for (const url of signedOut) {
        await settle(page, url);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${url} (${language}, ${width} px) is ${overflow} px too wide`);
        assert.equal(await page.evaluate(() => document.documentElement.lang), language);
        names.add(await page.title());
        await shot(url);
      }
      await signIn(page);
      if (language !== 'en') await useLanguage(page, language);
      for (const url of (await pages(page)).signedIn) {
        await settle(page, url);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${url} (${language}, ${width} px) is ${overflow} px too wide`);
        assert.equal(await page.evaluate(() => document.documentElement.lang), language);
        const title = await page.title();
        assert.ok(title.endsWith('Nightjar') && title.length > 'Nightjar'.length, `${url} has a title naming it: ${title}`);
        await shot(url);
      }
      if (language !== 'en') await useLanguage(page, 'en');
      assert.deepEqual(problems, []);
      await other.close();
    }
  }
  assert.ok(names.size >= 8, `pages have their own titles: ${[...names].join(' | ')}`);
});

test('no page has a serious or critical accessibility violation (axe-core)', async () => {
  const { page } = await open();
  const found = [];
  const check = async (url, ready) => {
    await settle(page, url);
    await ready?.();
    const result = await new AxeBuilder({ page }).analyze();
    for (const v of result.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        found.push(`${url}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      }
    }
  };
  for (const url of signedOut) await check(url);
  await signIn(page);
  for (const url of (await pages(page)).signedIn) await check(url);
  // The player's states too: a camera that has never been online, its page and overlay.
  await server.admin('device', 'add', '--serial', 'NEVER-1', '--model', 'NJ-Sim');
  const label = JSON.parse(await server.admin('device', 'label', '--serial', 'NEVER-1'));
  const added = await call(page, 'POST', '/devices', { serial: 'NEVER-1', pairing_code: label.pairing_code });
  assert.equal(added.status, 201);
  await check(`/devices/${added.json.id}`, () =>
    page.getByTestId('live-overlay').filter({ hasText: 'Camera offline' }).waitFor({ timeout: 10000 }),
  );
  assert.deepEqual(found, []);
  await page.close();
});

