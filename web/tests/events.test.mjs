// The alarm centre (issue #14), in Chromium against `nightjar serve --demo`: someone walks
// past the demo's Garden camera every 30 s; each visit is an alarm with a picture, the menu
// counts the unread ones, Play opens the recording from just before the visit, and what is
// read is each person's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { outputDir } from './server.mjs';
import { demoApp } from './demo-app.mjs';

let app;
const out = path.join(outputDir(), 'browser', 'events');

before(async () => {
  await mkdir(out, { recursive: true });
  // Webhooks may go to this machine's own test receiver.
  app = await demoApp({ config: '[notify]\nwebhook_allow_private = true\n' });
});

after(async () => {
  await app?.browser.close();
  if (app) assert.equal(await app.server.stop(), 0);
});

test('alarms: a picture of each visit, an unread count, and Play from just before it', async () => {
  const { open, signIn, call, deviceNamed, server, useLanguage } = app;
  const { page, problems } = await open({ width: 1280, height: 900 });
  await signIn(page);
  const garden = await deviceNamed(page, 'Garden');
  // The first visit comes within 30 s; the menu counts it.
  const badge = page.getByTestId('unread-badge');
  await badge.waitFor({ timeout: 45000 });
  await page.getByTestId('nav-events').click();
  await page.waitForURL((u) => u.pathname === '/events');
  assert.equal(await page.title(), 'Alarms · Nightjar');
  const first = page.getByTestId('event').first();
  await first.waitFor();
  // New visits arrive while the page is open: follow one event by its id.
  const id = await first.getAttribute('data-id');
  const item = page.locator(`[data-testid=event][data-id="${id}"]`);
  assert.equal(await item.getAttribute('data-kind'), 'motion');
  assert.match(await item.textContent(), /Motion.*Garden/s);
  // Its picture is there and is a real image (that it shows the intruder is checked by the
  // server's own test).
  await page.waitForFunction(
    (eventId) => {
      const img = document.querySelector(`[data-id="${eventId}"] img`);
      return img && img.complete && img.naturalWidth > 0;
    },
    id,
    { timeout: 15000 },
  );
  const event = (await call(page, 'GET', `/events/${id}`)).json;
  assert.ok(event.snapshot, 'the event has a picture');
  assert.equal(event.device_id, garden.id);
  await page.screenshot({ path: path.join(out, 'alarms-en-desktop.png'), fullPage: true });

  // Marking it read lowers the count at once.
  const before = Number((await badge.textContent()).replace('+', ''));
  await item.getByTestId('toggle-read').click();
  await page.waitForFunction((n) => {
    const b = document.querySelector('[data-testid=unread-badge]');
    return (b ? Number(b.textContent.replace('+', '')) : 0) < n;
  }, before);
  assert.equal((await call(page, 'GET', `/events/${id}`)).json.read, true);
  // Unread only: it is not listed.
  await page.getByTestId('filter-unread').check();
  await page.waitForFunction((eventId) => !document.querySelector(`[data-id="${eventId}"]`), id);
  await page.getByTestId('filter-unread').uncheck();
  // The kind filter shows only that kind.
  await page.getByTestId('filter-kind').selectOption('offline');
  await page.getByTestId('no-events').waitFor();
  await page.getByTestId('filter-kind').selectOption('');
  await item.waitFor();

  // Play opens the recording at the start of the clip: five seconds before the visit.
  await item.getByTestId('play-event').click();
  await page.waitForURL((u) => u.pathname === `/devices/${garden.id}/playback`);
  await page
    .waitForFunction(
      () => {
        const v = document.querySelector('[data-testid=playback-video]');
        return v && v.readyState >= 2 && v.currentTime > 0;
      },
      null,
      { timeout: 20000 },
    )
    .catch(async (e) => {
      await page.screenshot({ path: path.join(out, 'play-failed.png'), fullPage: true });
      const state = await page.evaluate(() => {
        const v = document.querySelector('[data-testid=playback-video]');
        return v ? { readyState: v.readyState, t: v.currentTime, src: v.currentSrc, requested: v.dataset.requested, error: v.error?.message } : null;
      });
      throw new Error(`${e}\n${JSON.stringify(state)}\n${await page.locator('main').textContent()}`);
    });
  const requested = await page.getByTestId('playback-video').evaluate((v) => Number(v.dataset.requested));
  assert.equal(requested, Date.parse(event.clip.from));
  assert.equal(Date.parse(event.clip.from), Date.parse(event.start) - 5000);

  // Mark all read: the badge goes.
  await page.goto(`${server.url}/events`);
  await page.getByTestId('all-read').click();
  await badge.waitFor({ state: 'detached' });
  assert.equal((await call(page, 'GET', '/events/unread')).json.count, 0);

  // The same page on a phone, in Chinese.
  const phone = await open({ width: 390, height: 844 }, 'zh-CN');
  await signIn(phone.page);
  await useLanguage(phone.page, 'zh-CN');  // the account's language, as the person chose it
  await phone.page.goto(`${server.url}/events`);
  await phone.page.getByTestId('event').first().waitFor();
  assert.equal(await phone.page.title(), '报警消息 · Nightjar');
  assert.match(await phone.page.getByTestId('event').first().textContent(), /移动侦测/);
  const wide = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the alarms fit a phone (${wide} px too wide)`);
  await phone.page.screenshot({ path: path.join(out, 'alarms-zh-CN-phone.png'), fullPage: true });
  await useLanguage(phone.page, 'en');
  assert.deepEqual(phone.problems, []);
  await phone.page.close();
  assert.deepEqual(problems, []);
  await page.close();
});


test('notifications: nothing until the person turns them on, then each visit at once; off, nothing', async () => {
  const { open, signIn, call, server } = app;
  const { page, problems } = await open({ width: 390, height: 844 });
  await signIn(page);
  await page.goto(`${server.url}/account/notifications`);
  await page.getByTestId('consent-in_app').waitFor();
  assert.equal(await page.getByTestId('consent-in_app').isChecked(), false, 'off until given');
  // Every notification needs its consent: with none, a visit shows nothing.
  const visits = async () => (await call(page, 'GET', '/events?kind=motion')).json.events.length;
  let seen = await visits();
  const nextVisit = async () => {
    await page.waitForFunction(
      async (n) => (await (await fetch('/api/v1/events?kind=motion')).json()).events.length > n,
      seen,
      { timeout: 45000, polling: 500 },
    );
    seen = await visits();
  };
  await nextVisit();
  await page.waitForTimeout(500);
  assert.equal(await page.getByTestId('toast').count(), 0, 'no consent, no notification');

  // Turned on: the record says when and under which policy; the next visit is told at once.
  await page.getByTestId('consent-in_app').check();
  await page.getByTestId('consent-in_app-record').filter({ hasText: 'You turned this on' }).waitFor();
  const consents = (await call(page, 'GET', '/me/consents')).json;
  assert.equal(consents.consents['notify.in_app'].granted, true);
  assert.equal(consents.consents['notify.in_app'].policy_version, consents.policy_version);
  await page.getByTestId('toast').first().waitFor({ timeout: 45000 });
  assert.match(await page.getByTestId('toast').first().textContent(), /Motion at Garden/);
  await page.screenshot({ path: path.join(out, 'notification-toast-en-phone.png'), fullPage: false });
  await page.screenshot({ path: path.join(out, 'notifications-en-phone.png'), fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the settings fit a phone (${wide} px too wide)`);

  // One tap: disarmed, and the mode shows where it was chosen.
  await page.getByTestId('mode-disarmed').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=mode-disarmed]')?.getAttribute('aria-pressed') === 'true');
  assert.equal((await call(page, 'GET', '/me/notifications')).json.mode, 'disarmed');
  await page.getByTestId('mode-away').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=mode-away]')?.getAttribute('aria-pressed') === 'true');

  // Turned off: the very next visit tells nothing.
  await page.getByTestId('consent-in_app').uncheck();
  await page.getByTestId('consent-in_app-record').filter({ hasText: 'You turned this off' }).waitFor();
  await page.evaluate(() => document.querySelectorAll('[data-testid=toast] button').forEach((b) => b.click()));
  await page.getByTestId('toast').first().waitFor({ state: 'detached' });
  seen = await visits();
  await nextVisit();
  await page.waitForTimeout(500);
  assert.equal(await page.getByTestId('toast').count(), 0, 'withdrawn: nothing');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the timeline zooms to five minutes, marks each visit, and a tap plays it from just before', async () => {
  const { open, signIn, call, deviceNamed, server } = app;
  const { page, problems } = await open({ width: 1280, height: 900 });
  await signIn(page);
  const garden = await deviceNamed(page, 'Garden');
  // A visit with its picture.
  let event;
  for (let i = 0; i < 200 && !event; ++i) {
    event = (await call(page, 'GET', `/events?device=${garden.id}&kind=motion`)).json.events.find((e) => e.end && e.snapshot);
    if (!event) await page.waitForTimeout(250);
  }
  assert.ok(event, 'a visit within 50 s');
  const start = Date.parse(event.start);
  await page.goto(`${server.url}/devices/${garden.id}/playback?at=${start - 60_000}`);
  await page.getByTestId('span').first().waitFor();
  for (let i = 0; i < 4; ++i) await page.getByTestId('zoom-in').click();
  // Each click re-renders the bar: wait for the last one to show before reading it.
  await page.getByTestId('zoom-level').filter({ hasText: /^5 minutes$/ }).waitFor({ timeout: 5000 });
  const timeline = page.getByTestId('timeline');
  const viewStart = Number(await timeline.getAttribute('data-view-start'));
  const span = Number(await timeline.getAttribute('data-view-span'));
  assert.equal(span, 300_000);
  assert.ok(viewStart <= start && start < viewStart + span, 'the visit is in view');
  // Its marker, coloured by kind, shows the picture on hover and plays from 5 s before.
  const marker = page.locator(`[data-testid=marker][data-start="${start}"]`);
  await marker.hover();
  await page.getByTestId('timeline-hover').locator('img').waitFor();
  await page.screenshot({ path: path.join(out, 'timeline-zoomed-en-desktop.png'), fullPage: true });
  await marker.click();
  const video = page.getByTestId('playback-video');
  await page.waitForFunction(
    (want) => {
      const v = document.querySelector('[data-testid=playback-video]');
      return v && Number(v.dataset.requested) === want && v.readyState >= 2 && v.currentTime > 0;
    },
    start - 5000,
    { timeout: 20000 },
  );
  // A click on the bar lands where it was made: within a pixel (5 min over the bar's width).
  const box = await timeline.boundingBox();
  await page.mouse.click(box.x + box.width * 0.25, box.y + 2);  // above the markers
  const expected = viewStart + 0.25 * span;
  await page.waitForFunction((before) => Number(document.querySelector('[data-testid=playback-video]').dataset.requested) !== before, start - 5000, { timeout: 5000 });
  const requested = await video.evaluate((v) => Number(v.dataset.requested));
  assert.ok(Math.abs(requested - expected) <= span / box.width + 1, `${requested - expected} ms off`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('webhooks and home automation are set up in the settings, and send nothing until consented', async () => {
  const { open, signIn, call } = app;
  // The person's own endpoint, on loopback.
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    const { page, problems } = await open({ width: 390, height: 844 });
    await signIn(page);
    // Every visit on its own (no grouping with the visits told in the tests before).
    const cooldown = (await call(page, 'GET', '/me/notifications')).json.cooldown_s;
    assert.equal((await call(page, 'PATCH', '/me/notifications', { cooldown_s: 0 })).status, 200);
    await page.goto(`${app.server.url}/account/notifications`);
    await page.getByTestId('webhook-url').fill('not a url');
    await page.getByTestId('webhook-add').click();
    assert.equal(await page.getByTestId('webhook').count(), 0, 'the browser refuses it first');
    await page.getByTestId('webhook-url').fill(hookUrl);
    await page.getByTestId('webhook-add').click();
    await page.getByTestId('webhook').filter({ hasText: hookUrl }).waitFor();
    await page.getByRole('button', { name: 'Show signing secret' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    // Set up, not consented: a visit sends nothing.
    const visits = async () => (await call(page, 'GET', '/events?kind=motion')).json.events.length;
    const nextVisit = async (seen) => {
      await page.waitForFunction(
        async (n) => (await (await fetch('/api/v1/events?kind=motion')).json()).events.length > n,
        seen,
        { timeout: 45000, polling: 500 },
      );
    };
    await nextVisit(await visits());
    await page.waitForTimeout(1000);
    assert.equal(received.length, 0, 'no consent, no webhook');
    // Consented: the next visit is posted, signed with the secret shown.
    await page.getByTestId('consent-webhook').check();
    await page.getByTestId('consent-webhook-record').filter({ hasText: 'You turned this on' }).waitFor();
    for (let i = 0; i < 450 && received.length === 0; ++i) await page.waitForTimeout(100);
    assert.equal(received.length >= 1, true, 'a visit reached the webhook');
    const { headers, body } = received[0];
    const [, t, v1] = headers['nightjar-signature'].match(/^t=(\d+),v1=([0-9a-f]{64})$/);
    assert.equal(v1, createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
    const sent = JSON.parse(body);
    assert.equal(sent.notification.kind, 'motion');
    assert.equal(sent.notification.device_name, 'Garden');
    // The server keeps the answer once it has read it, a moment after the receiver has the
    // body (on a loaded machine the page could otherwise load before it is kept).
    let answered;
    for (let i = 0; i < 100 && answered !== 204; ++i) {
      answered = (await call(page, 'GET', '/me/webhooks')).json.webhooks.find((w) => w.url === hookUrl)?.last_status;
      if (answered !== 204) await page.waitForTimeout(100);
    }
    assert.equal(answered, 204, 'the answer is kept');
    await page.reload();
    await page.getByTestId('webhook').filter({ hasText: 'Last answer 204' }).waitFor();

    // The mode on a schedule, in this browser's time zone: on, chosen, and when it next acts.
    await page.getByTestId('arming-on').check();
    await page.getByTestId('arming-in').selectOption('disarmed');
    await page.getByTestId('arming-start').fill('09:00');
    await page.getByTestId('arming-end').fill('17:30');
    await page.getByTestId('arming-next').waitFor();
    let schedule;
    for (let i = 0; i < 50; ++i) {
      schedule = (await call(page, 'GET', '/me/notifications')).json.arming_schedule;
      if (schedule?.windows[0].end === '17:30') break;
      await page.waitForTimeout(100);
    }
    assert.equal(schedule.in, 'disarmed');
    assert.equal(schedule.out, 'away');
    assert.equal(schedule.windows[0].start, '09:00');
    assert.equal(schedule.time_zone, await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    assert.match(await page.getByTestId('arming-next').textContent(), /^Next: (Disarmed|Away),/);
    await page.getByTestId('arming-on').uncheck();
    await page.getByTestId('arming-next').waitFor({ state: 'detached' });

    // Per camera, the owner's: which modes record its events.
    const gardenRow = page.getByTestId('notify-camera').filter({ hasText: 'Garden' });
    await gardenRow.getByTestId('record-disarmed').uncheck();
    let record;
    for (let i = 0; i < 50 && record?.disarmed !== false; ++i) {
      record = (await call(page, 'GET', '/me/notifications')).json.cameras.find((c) => c.name === 'Garden').record;
      if (record?.disarmed !== false) await page.waitForTimeout(100);
    }
    assert.deepEqual(record, { home: true, away: true, disarmed: false });
    await gardenRow.getByTestId('record-disarmed').check();

    // Home automation: the password is shown once, then never again.
    await page.getByTestId('mqtt-on').click();
    const password = (await page.getByTestId('mqtt-password').textContent()).trim();
    assert.ok(password.length >= 40);
    assert.match(await page.getByTestId('mqtt-discovery').textContent(), /^nj\/home\/.+\/homeassistant$/);
    assert.match(await page.getByTestId('mqtt-broker').textContent(), /^mqtts?:\/\//);
    await page.screenshot({ path: path.join(out, 'channels-en-phone.png'), fullPage: true });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wide <= 0, `the channels fit a phone (${wide} px too wide)`);
    await page.reload();
    await page.getByTestId('mqtt-username').waitFor();
    assert.equal(await page.getByTestId('mqtt-password').count(), 0, 'shown once');

    // Put back as the other tests expect: off, and gone.
    await page.getByTestId('consent-webhook').uncheck();
    await page.getByTestId('consent-webhook-record').filter({ hasText: 'You turned this off' }).waitFor();
    await page.getByTestId('webhook-delete').click();
    await page.getByTestId('webhook').waitFor({ state: 'detached' });
    await page.getByTestId('mqtt-off').click();
    await page.getByTestId('mqtt-on').waitFor();
    assert.equal((await call(page, 'GET', '/me/mqtt')).json.enabled, false);
    assert.equal((await call(page, 'PATCH', '/me/notifications', { cooldown_s: cooldown })).status, 200);
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    receiver.close();
  }
});

test('detection by the server: zones drawn on the camera picture are kept as drawn', async () => {
  const { open, signIn, call, deviceNamed } = app;
  const { page, problems } = await open({ width: 390, height: 844 });
  await signIn(page);
  const door = await deviceNamed(page, 'Front door');
  await page.goto(`${app.server.url}/devices/${door.id}#detection`);
  const canvas = page.getByTestId('zone-canvas');
  await canvas.waitFor();
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  // A zone over the lower left quarter: four taps, then finish.
  for (const [x, y] of [
    [0.05, 0.55],
    [0.45, 0.55],
    [0.45, 0.95],
    [0.05, 0.95],
  ]) {
    await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  }
  await page.getByTestId('zone-finish').click();
  assert.equal(await page.getByTestId('zone').count(), 1);
  await page.getByTestId('detect-area').selectOption('0.02');
  await page.getByTestId('detect-save').click();
  await page.getByTestId('note').waitFor();
  const saved = (await call(page, 'GET', `/devices/${door.id}/detection`)).json;
  assert.equal(saved.enabled, false, 'drawn, not turned on');
  assert.equal(saved.min_area, 0.02);
  assert.equal(saved.zones.length, 1);
  const [first, , third] = saved.zones[0].points;
  assert.ok(Math.abs(first[0] - 0.05) < 0.02 && Math.abs(first[1] - 0.55) < 0.02, JSON.stringify(first));
  assert.ok(Math.abs(third[0] - 0.45) < 0.02 && Math.abs(third[1] - 0.95) < 0.02, JSON.stringify(third));
  await page.screenshot({ path: path.join(out, 'detection-zones-en-phone.png'), fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the zone editor fits a phone (${wide} px too wide)`);
  // Cleared again, as the other tests expect.
  await page.getByTestId('zone-clear').click();
  await page.getByTestId('detect-save').click();
  for (let i = 0; i < 50; ++i) {
    if ((await call(page, 'GET', `/devices/${door.id}/detection`)).json.zones.length === 0) break;
    await page.waitForTimeout(100);
  }
  assert.equal((await call(page, 'GET', `/devices/${door.id}/detection`)).json.zones.length, 0);
  assert.deepEqual(problems, []);
  await page.close();
});
