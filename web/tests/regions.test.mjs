// Data regions (policy item 36) in Chromium: the region is chosen at sign-up, shown in the
// privacy centre, and the person's data moves to another region only once they tick the box
// that is their consent; the move is listed with the time of that consent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { outputDir } from './server.mjs';
import { demoApp } from './demo-app.mjs';

const out = path.join(outputDir(), 'browser', 'regions');
let app, elsewhere;

before(async () => {
  await mkdir(out, { recursive: true });
  elsewhere = await mkdtemp(path.join(tmpdir(), 'nj-regions-eu-'));
  app = await demoApp({
    config: `[regions.default]\nname = "Home"\n[regions.eu]\nname = "Europe"\nroot = "${elsewhere}"\n`,
  });
});

after(async () => {
  await app?.browser.close();
  assert.equal(await app?.server.stop(), 0);
  await rm(elsewhere, { recursive: true, force: true });
});

test('the region is chosen at sign-up', async () => {
  const { page, problems } = await app.open();
  await page.goto(`${app.server.url}/signup`);
  const choice = page.getByTestId('signup-region');
  await choice.waitFor();
  assert.deepEqual(await choice.locator('option').allTextContents(), ['Home', 'Europe']);
  await choice.selectOption('eu');
  await page.locator('input[name="email"]').fill('european@example.org');
  await page.locator('input[name="password"]').fill('a long passphrase for europe');
  await page.locator('input[name="accept"]').check();
  const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/auth/register'));
  await page.locator('button[type="submit"]').click();
  assert.equal(JSON.parse((await sent).postData()).region, 'eu');
  await page.getByText('we sent a link').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('data moves to another region only with the box ticked, and the move is listed', async () => {
  const { page, problems } = await app.open();
  await app.signIn(page);
  await page.goto(`${app.server.url}/account/privacy`);
  await page.getByTestId('region-current').filter({ hasText: 'kept in Home' }).waitFor();
  const move = page.getByTestId('region-move');
  assert.equal(await move.isDisabled(), true, 'no move without the consent box');
  // Not from the page either: the server refuses a move without consent.
  const refused = await app.call(page, 'POST', '/me/region', { region: 'eu' });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.code, 'consent_required');
  await page.getByTestId('region-target').selectOption('eu');
  await page.getByTestId('region-consent').check();
  await page.getByText('moved to Europe, and deleted where they are now').waitFor();
  await move.click();
  await page.getByTestId('region-moves').locator('li[data-state="done"]').filter({ hasText: 'Moved from Home to Europe' }).waitFor({ timeout: 20000 });
  await page.reload();
  await page.getByTestId('region-current').filter({ hasText: 'kept in Europe' }).waitFor();
  await page.screenshot({ path: path.join(out, 'privacy-centre-region-en-desktop.png'), fullPage: true });
  // In Chinese too.
  await app.useLanguage(page, 'zh-CN');
  await page.goto(`${app.server.url}/account/privacy`);
  await page.getByTestId('region-moves').locator('li').filter({ hasText: '迁移到' }).waitFor();
  await page.screenshot({ path: path.join(out, 'privacy-centre-region-zh-desktop.png'), fullPage: true });
  await app.useLanguage(page, 'en');
  assert.deepEqual(problems, []);
  await page.close();
});
