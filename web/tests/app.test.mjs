// The app a person keeps (issue #13), in Chromium against `nightjar serve --demo` and real
// simulated cameras: settings that survive a reload, privacy mode, truthful player states
// (offline since…, access removed, server unreachable), dates in the person's language,
// deep links through sign-in, a local recording that is a real MP4, and an app that
// installs and opens offline. Every page's layout and accessibility: pages.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { outputDir } from './server.mjs';
import { launch } from './browser.mjs';
import { demoApp } from './demo-app.mjs';

const run = promisify(execFile);
let app;
let server;
let serverStopped = false;
let browser;
let login;
let open, signIn, useLanguage, call, deviceNamed, openCamera, untilLive;
const out = path.join(outputDir(), 'browser', 'app');
const cameras = [];

before(async () => {
  await mkdir(out, { recursive: true });
  app = await demoApp();
  ({ server, login, browser, open, signIn, useLanguage, call, deviceNamed, openCamera, untilLive } = app);
});

after(async () => {
  for (const c of cameras) c.kill('SIGTERM');
  await browser?.close();
  if (!serverStopped) assert.equal(await server?.stop(), 0);
});

test('settings come from the camera, survive a reload, and only what changed is sent', async () => {
  const { page, problems } = await open();
  await signIn(page);
  await openCamera(page, 'Garden');
  await page.getByTestId('tab-settings').click();
  const night = page.getByTestId('setting-night_mode');
  assert.equal(await night.inputValue(), 'auto', 'what the camera does, not a default');
  await page.getByTestId('settings-reported').filter({ hasText: 'As the camera reported them' }).waitFor();

  const sent = [];
  page.on('request', (r) => r.method() === 'PATCH' && sent.push(JSON.parse(r.postData())));
  await night.selectOption('on');
  await page.getByTestId('setting-mirror').check();
  await page.getByTestId('save-settings').click();
  await page.getByTestId('note').filter({ hasText: 'Saved on the camera.' }).waitFor();
  assert.deepEqual(sent, [{ settings: { night_mode: 'on', mirror: true } }]);
  await page.screenshot({ path: path.join(out, 'settings-en-desktop.png'), fullPage: true });

  await page.reload();
  await page.getByTestId('tab-settings').click();
  assert.equal(await page.getByTestId('setting-night_mode').inputValue(), 'on');
  assert.equal(await page.getByTestId('setting-mirror').isChecked(), true);

  // Renaming sends the name alone: the camera's settings stay as they are.
  sent.length = 0;
  await page.getByLabel('Name').fill('Back garden');
  await page.getByTestId('save-settings').click();
  await page.getByTestId('note').waitFor();
  assert.deepEqual(sent, [{ name: 'Back garden' }]);
  await page.reload();
  await page.getByTestId('device-name').filter({ hasText: 'Back garden' }).waitFor();
  await page.getByTestId('tab-settings').click();
  assert.equal(await page.getByTestId('setting-night_mode').inputValue(), 'on');
  // Put back for the other tests.
  await call(page, 'PATCH', `/devices/${(await deviceNamed(page, 'Back garden')).id}`, {
    name: 'Garden',
    settings: { night_mode: 'auto', mirror: false },
  });
  assert.deepEqual(problems, []);
  await page.close();
});

test('privacy mode stops the camera, the page says so, and one tap turns it off', async () => {
  const { page, problems } = await open({ width: 390, height: 844 });
  await signIn(page);
  await openCamera(page, 'Front door');
  await untilLive(page);
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('setting-privacy_mode').check();
  await page.getByTestId('save-settings').click();
  await page.getByTestId('note').waitFor();
  await page.getByTestId('device-state').filter({ hasText: 'Privacy mode' }).waitFor();
  // The view stops (the camera stopped sending) and says why.
  await page
    .getByTestId('live-overlay')
    .filter({ hasText: 'Privacy mode is on' })
    .waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(out, 'privacy-mode-en-phone.png'), fullPage: true });
  await page.getByTestId('privacy-off').click();
  await untilLive(page);
  await page.getByTestId('device-state').filter({ hasText: 'Online' }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('privacy mode on a schedule, in the person\'s own time zone', async () => {
  // A browser in Kolkata (UTC+05:30, a zone whose hours differ from the server's UTC).
  const other = await launch({ timezoneId: 'Asia/Kolkata' });
  const { page, problems } = await open({ width: 360, height: 800 }, 'en', other.context);
  await signIn(page);
  const garden = await openCamera(page, 'Garden');
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('schedule-on').check();
  // Chromium names it by its older alias, which the server's zone files know too.
  const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.match(zone, /^Asia\/(Kolkata|Calcutta)$/);
  await page.getByTestId('schedule-zone').filter({ hasText: zone }).waitFor();
  // From two minutes ago to half an hour from now, on this browser's clock.
  const [start, end, endShown] = await page.evaluate(() => {
    const hhmm = (d) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    const until = new Date(Date.now() + 1800000);
    const shown = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit' }).format(until);
    return [hhmm(new Date(Date.now() - 120000)), hhmm(until), shown];
  });
  await page.getByTestId('schedule-start').fill(start);
  await page.getByTestId('schedule-end').fill(end);
  const sent = [];
  page.on('request', (r) => r.method() === 'PATCH' && sent.push(JSON.parse(r.postData())));
  await page.getByTestId('save-settings').click();
  await page.getByTestId('note').filter({ hasText: 'Saved on the camera.' }).waitFor();
  const all = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  assert.deepEqual(sent, [
    { privacy_schedule: { enabled: true, time_zone: zone, windows: [{ days: all, start, end }] } },
  ]);
  // The server turns privacy mode on by itself; the page says so and when it ends.
  await page.getByTestId('device-state').filter({ hasText: 'Privacy mode' }).waitFor({ timeout: 25000 });
  await page.getByTestId('schedule-next').filter({ hasText: 'Privacy mode turns off' }).waitFor();
  assert.ok(
    (await page.getByTestId('schedule-next').textContent()).includes(endShown),
    'the end, on this browser\'s clock',
  );
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the schedule fits a 360 px screen (${wide} px too wide)`);
  await page.screenshot({ path: path.join(out, 'privacy-schedule-en-phone.png'), fullPage: true });

  // After a reload the form shows the schedule as kept; days chosen in Chinese read as such.
  await page.reload();
  await page.getByTestId('tab-settings').click();
  assert.equal(await page.getByTestId('schedule-on').isChecked(), true);
  assert.equal(await page.getByTestId('schedule-start').inputValue(), start);
  assert.equal(await page.getByTestId('schedule-end').inputValue(), end);
  await useLanguage(page, 'zh-CN');
  await page.getByTestId('privacy-schedule').filter({ hasText: '周六' }).waitFor();
  await page.screenshot({ path: path.join(out, 'privacy-schedule-zh-CN-phone.png'), fullPage: true });
  await useLanguage(page, 'en');

  // Put back for the other tests.
  await call(page, 'PATCH', `/devices/${garden.id}`, { privacy_schedule: null, settings: { privacy_mode: false } });
  assert.deepEqual(problems, []);
  await other.close();
});

test('a camera that went offline says since when, and is tried again', async () => {
  const { page } = await open();
  await signIn(page);
  // A camera of our own (a real nightjar-cam), added by its label, online, then unplugged.
  const serial = 'UNPLUG-1';
  const dir = await mkdtemp(path.join(tmpdir(), 'nj-cam-'));
  const secret = await server.admin('device', 'add', '--serial', serial, '--model', 'NJ-Sim');
  await writeFile(path.join(dir, 'secret'), `${secret}\n`);
  const label = JSON.parse(await server.admin('device', 'label', '--serial', serial));
  const added = await call(page, 'POST', '/devices', { serial, pairing_code: label.pairing_code });
  assert.equal(added.status, 201, JSON.stringify(added.json));
  // Its page, open before it ever came online: it says offline, then plays when it comes.
  const cam = spawn(
    path.join(path.dirname(process.env.NJ_BIN), 'nightjar-cam'),
    ['--server', server.url, '--serial', serial, '--secret-file', path.join(dir, 'secret'), '--simulate', '--size', '320x240'],
    { stdio: 'ignore' },
  );
  cameras.push(cam);
  await page.goto(`${server.url}/devices/${added.json.id}`);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 20000 });
  cam.kill('SIGTERM');
  await new Promise((r) => cam.on('exit', r));
  await rm(dir, { recursive: true, force: true });
  const overlay = page.getByTestId('live-overlay');
  await overlay.filter({ hasText: 'Camera offline since' }).waitFor({ timeout: 20000 });
  assert.match(await overlay.textContent(), /since \d{2}:\d{2}/);
  await overlay.getByTestId('retry-now').waitFor();
  await page.screenshot({ path: path.join(out, 'camera-offline-en-desktop.png') });
  // The list says it too.
  await page.goto(`${server.url}/devices`);
  await page
    .locator(`[data-serial="${serial}"]`)
    .getByTestId('device-state')
    .filter({ hasText: 'Offline since' })
    .waitFor({ timeout: 10000 });
  await page.close();
});

test('dates, times and sessions read in the person\'s language', async () => {
  const other = await launch();
  const { page } = await open({ width: 1280, height: 900 }, 'zh-CN', other.context);
  await signIn(page);
  await useLanguage(page, 'zh-CN');
  await page.goto(`${server.url}/account/security`);
  const client = page.getByTestId('session-client').first();
  await client.waitFor();
  assert.equal(await client.textContent(), 'Linux 上的 Chromium');
  assert.match(await page.getByTestId('sessions').textContent(), /\d+月\d+日/);
  await openCamera(page, 'Garden');
  await page.getByTestId('tab-info').click();
  const info = await page.getByTestId('device-info').textContent();
  assert.match(info, /\d+月\d+日/, `a Chinese date: ${info}`);
  assert.doesNotMatch(info, /\b(AM|PM|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/);
  await page.getByTestId('traffic').waitFor();
  await page.screenshot({ path: path.join(out, 'device-info-zh-CN-desktop.png'), fullPage: true });
  await useLanguage(page, 'en');
  await other.close();
});

test('a signed-out deep link goes to sign-in and back; a used link offers a new one', async () => {
  const other = await launch();
  const { page } = await open(undefined, 'en', other.context);
  // The id of a camera, found as the owner in another context.
  const owner = await open();
  await signIn(owner.page);
  const garden = await deviceNamed(owner.page, 'Garden');
  await owner.page.close();

  await page.goto(`${server.url}/devices/${garden.id}`);
  await page.waitForURL((u) => u.pathname === '/signin');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/devices/${garden.id}`);
  await page.locator('input[name="email"]').fill(login[1]);
  await page.locator('input[name="password"]').fill(login[2]);
  await page.locator('button[type="submit"]').click();
  await page.getByTestId('device-name').filter({ hasText: 'Garden' }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/devices/${garden.id}`);
  // Never to another site, whatever `next` says.
  await page.goto(`${server.url}/signin?next=//example.org/`);
  await page.locator('input[name="email"]').fill(login[1]);
  await page.locator('input[name="password"]').fill(login[2]);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((u) => u.pathname === '/devices');
  assert.equal(new URL(page.url()).origin, server.url);

  await page.goto(`${server.url}/verify?token=used-or-made-up`);
  await page.getByTestId('error').waitFor();
  const resend = page.getByTestId('resend');
  await resend.getByLabel('E-mail address').fill('someone@example.org');
  await resend.getByRole('button', { name: 'Send me a new link' }).click();
  await page.getByTestId('note').filter({ hasText: 'a new link is on its way' }).waitFor();
  await other.close();
});

test('a local recording is an MP4 of the camera\'s own video and sound, with a duration', async () => {
  const { page, problems } = await open();
  await signIn(page);
  await openCamera(page, 'Front door');
  await untilLive(page);
  await page.getByTestId('record').click();
  // It starts at the camera's next keyframe (a GOP is 2 s): 6 s of clicking is 4 to 6 s of MP4.
  await page.waitForTimeout(6000);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('record').click()]);
  assert.equal(download.suggestedFilename(), 'Front door.mp4');
  const file = path.join(out, 'local-recording.mp4');
  await download.saveAs(file);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,codec_type', '-of', 'json', file]);
  const probe = JSON.parse(stdout);
  const duration = Number(probe.format.duration);
  assert.ok(duration >= 3.5 && duration <= 8, `duration ${duration} s`);
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  // Every frame decodes, and seeking to the middle works.
  const decoded = await run('ffmpeg', ['-v', 'error', '-ss', String(duration / 2), '-i', file, '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '', decoded.stderr);
  assert.deepEqual(problems, []);
  await page.close();
});

test('deleting a card recording asks first, then says it is done', async () => {
  const { page } = await open();
  await signIn(page);
  await openCamera(page, 'Front door');
  await page.getByTestId('tab-sdcard').click();
  await page.getByTestId('sd-state').waitFor();
  for (let i = 0; i < 30 && (await page.getByTestId('sd-delete').count()) === 0; ++i) {
    await page.waitForTimeout(1000);
    await page.reload();
    await page.getByTestId('sd-state').waitFor();
  }
  const before = await page.getByTestId('sd-delete').count();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByTestId('sd-delete').first().click();
  await page.waitForTimeout(300);
  assert.match(asked, /Delete the recording of .+ from the card\?/);
  assert.equal(await page.getByTestId('note').count(), 0, 'declined: nothing deleted');
  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('sd-delete').first().click();
  await page.getByTestId('note').filter({ hasText: 'Deleted the recording of' }).waitFor();
  assert.ok((await page.getByTestId('sd-delete').count()) <= before);
  await page.close();
});

test('the app installs (manifest, icons, service worker) and opens offline without personal data', async () => {
  const other = await launch();
  const { page } = await open({ width: 390, height: 844 }, 'en', other.context);
  await signIn(page);
  const manifest = await (await page.request.get(`${server.url}/manifest.webmanifest`)).json();
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/devices');
  const sizes = manifest.icons.map((i) => i.sizes);
  assert.ok(sizes.includes('192x192') && sizes.includes('512x512'));
  for (const icon of manifest.icons) {
    const r = await page.request.get(`${server.url}${icon.src}`);
    assert.equal(r.status(), 200, icon.src);
  }
  await page.goto(`${server.url}/devices`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload(); // now under the worker's control
  await page.getByTestId('device').first().waitFor();
  assert.equal(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), true);
  // Chromium's own verdict: nothing stops it being installed.
  const cdp = await other.context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  await cdp.detach();

  await other.context.setOffline(true);
  await page.reload();
  await page.getByTestId('offline').filter({ hasText: 'You are offline' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/devices', 'offline is not signed out');
  await page.screenshot({ path: path.join(out, 'offline-en-phone.png') });
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const key of await caches.keys()) for (const r of await (await caches.open(key)).keys()) urls.push(new URL(r.url).pathname);
    return urls;
  });
  assert.ok(cached.includes('/'), 'the shell is kept');
  assert.deepEqual(
    cached.filter((u) => u.startsWith('/api/') || u.endsWith('.jpg')),
    [],
    'no answer that holds personal data is cached',
  );
  await other.context.setOffline(false);
  await other.close();
});

test('live view: sound on and off, full screen with f, and the list shows the picture', async () => {
  const { page, problems } = await open();
  await signIn(page);
  await openCamera(page, 'Front door');
  await untilLive(page);
  const video = page.getByTestId('live-video');
  await page.waitForFunction(() => !document.querySelector('[data-testid="sound"]').disabled);
  assert.equal(await video.evaluate((v) => v.muted), true, 'starts muted (browsers allow only that)');
  const mutedIs = (value) =>
    page.waitForFunction((v) => document.querySelector('[data-testid="live-video"]').muted === v, value, { timeout: 5000 });
  await page.getByTestId('sound').click();
  await mutedIs(false); // the camera is heard
  assert.equal(await page.getByTestId('sound').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('sound').click();
  await mutedIs(true);
  await page.keyboard.press('f');
  await page.waitForFunction(() => document.fullscreenElement !== null);
  await page.screenshot({ path: path.join(out, 'fullscreen-en-desktop.png') });
  await page.keyboard.press('f');
  await page.waitForFunction(() => document.fullscreenElement === null);
  // The camera list: a picture of each camera that has one, from this camera's stream.
  await page.goto(`${server.url}/devices`);
  const picture = page.locator('[data-serial="DEMO-CAM-1"]').getByTestId('thumbnail');
  await picture.waitFor({ timeout: 15000 });
  assert.ok((await picture.evaluate((img) => img.naturalWidth)) >= 320);
  await page.screenshot({ path: path.join(out, 'devices-list-en-desktop.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the owner sees who opened the camera: the activity tab lists their own live view and picture', async () => {
  const { page, problems } = await open();
  await signIn(page);
  const d = await openCamera(page, 'Front door');
  await untilLive(page);
  await page.getByTestId('tab-activity').click();
  const log = page.getByTestId('access-log');
  await log.locator('li[data-kind="live"]').first().waitFor({ timeout: 5000 });
  const live = await log.locator('li[data-kind="live"]').first().textContent();
  assert.match(live, /You/);
  assert.match(live, /watched live/);
  assert.match(live, /session [0-9a-f]{12}/);
  // The same as the API says, and nothing from another origin or of another camera.
  const r = await call(page, 'GET', `/devices/${d.id}/access-log`);
  assert.equal(r.status, 200);
  assert.ok(r.json.entries.every((e) => e.you), 'only the owner opened it');
  await page.screenshot({ path: path.join(out, 'activity-en-desktop.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the privacy centre: the policy and its history, each consent with its time, an advertising switch that stays off, a request, and a copy of the data', async () => {
  const { page, problems } = await open();
  await signIn(page);
  await page.goto(`${server.url}/account/privacy`);
  await page.getByTestId('ads-switch').waitFor();
  assert.equal(await page.getByTestId('ads-switch').isChecked(), false);
  assert.equal(await page.getByTestId('ads-switch').isDisabled(), true);
  await page.getByText('Nightjar shows no advertising').waitFor();
  // The switch cannot be turned on behind the page's back either.
  const refused = await call(page, 'PUT', '/me/consents/ads.personalised', { granted: true });
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.code, 'no_advertising');
  assert.equal((await call(page, 'PUT', '/me/consents/ads.personalised', { granted: false })).status, 200);
  // Every notification purpose is listed with what the person said (or "never given").
  const consents = page.getByTestId('consents');
  for (const purpose of ['notify.in_app', 'notify.push', 'notify.email', 'notify.webhook', 'notify.mqtt']) {
    await consents.locator(`li[data-purpose="${purpose}"]`).waitFor();
  }
  await page.getByTestId('policy-history').locator('li').first().waitFor();
  // One region on this server: the page says the data stays here, and offers no move.
  await page.getByTestId('region-current').filter({ hasText: 'kept on this server, and nowhere else' }).waitFor();
  assert.equal(await page.getByTestId('region-form').count(), 0);
  // A request: filed from the page, listed with the date its answer is due.
  await page.getByTestId('request-kind').selectOption('access');
  await page.getByTestId('request-text').fill('Please send me a copy of my data.');
  await page.getByTestId('request-send').click();
  const filed = page.getByTestId('requests').locator('li[data-status="open"]').first();
  await filed.waitFor();
  assert.match(await filed.textContent(), /A copy of my data.*answer due by/s);
  // A copy of the data: asked for, prepared, then downloaded as a ZIP that holds the account.
  await page.getByTestId('export-ask').click();
  const link = page.getByTestId('export-download');
  await link.waitFor({ timeout: 20000 });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const saved = path.join(out, 'export.zip');
  await download.saveAs(saved);
  const { stdout } = await run('unzip', ['-p', saved, 'account.json']);
  assert.match(stdout, /demo@nightjar\.local/);
  await page.screenshot({ path: path.join(out, 'privacy-centre-en-desktop.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('too many wrong pairing codes: the page says how long to wait', async () => {
  const { page } = await open();
  await signIn(page);
  await page.goto(`${server.url}/devices/add`);
  const form = page.getByTestId('add-by-serial');
  await form.getByLabel('Serial').fill('NO-SUCH-CAMERA');
  await form.getByLabel('Pairing code').fill('0000-0000');
  for (let i = 0; i < 6; ++i) {
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/devices') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Add this camera' }).click();
    await answered;
  }
  await form.getByTestId('error').filter({ hasText: /Too many failed attempts.*Try again in \d+ s\./ }).waitFor();
  await page.screenshot({ path: path.join(out, 'pairing-lockout-en-desktop.png') });
  await page.close();
});

// Last: it stops the server.
test('when the server goes away the camera page says so and keeps trying, slower each time', async () => {
  const { page } = await open();
  await signIn(page);
  await openCamera(page, 'Front door');
  await untilLive(page);
  assert.equal(await server.stop(), 0);
  serverStopped = true;
  const overlay = page.getByTestId('live-overlay');
  await overlay
    .filter({ hasText: "Can't reach the server. Trying again in" })
    .waitFor({ timeout: 15000 })
    .catch(async (e) => {
      throw new Error(`${e}\nshown: ${await page.locator('main').textContent()}`);
    });
  await overlay.getByTestId('retry-now').waitFor();
  await page.screenshot({ path: path.join(out, 'server-unreachable-en-desktop.png') });
  // The delay grows: later countdowns start higher.
  const seconds = async () => Number((await overlay.textContent()).match(/in (\d+) s/)[1]);
  let longest = 0;
  for (let i = 0; i < 12; ++i) {
    longest = Math.max(longest, await seconds().catch(() => 0));
    await page.waitForTimeout(500);
  }
  assert.ok(longest >= 2, `backs off (saw ${longest} s)`);
  await page.close();
});
