// Cameras in Chromium: `nightjar serve --demo` runs two simulated cameras (real nightjar-cam
// processes) bound to the demo account. Signed in, the person sees both online, opens one,
// and it plays live over the WebSocket (woken on demand); a screenshot comes out as a PNG.
// The add-camera page shows a QR code for a one-time token.
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
  server = await startServer({ extraArgs: ['--demo'] });
  browser = await launch();
});

// Signs in through the page, as a person would.
async function signIn(page, email, password) {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor();
}

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

test('the demo cameras are listed, play live, and a screenshot is a PNG', async () => {
  const login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  assert.ok(login, 'the server prints the demo login');
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await signIn(page, login[1], login[2]);

  await page.goto(`${server.url}/devices`);
  const cards = page.getByTestId('device');
  await cards.nth(1).waitFor({ timeout: 20000 }).catch((e) => {
    throw new Error(`${e}\n${server.log()}`);
  });
  assert.equal(await cards.count(), 2);
  // Both come online within seconds (the list refreshes itself).
  await page.getByTestId('device-state').filter({ hasText: 'Online' }).nth(1).waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(out, 'devices-list.png') });

  await page.getByRole('link', { name: 'Front door' }).click();
  await page.getByTestId('device-name').filter({ hasText: 'Front door' }).waitFor();
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 15000 });
  // The camera was idle (never asked to stream): this is open → woken → first frame drawn.
  const startupMs = Number(await page.getByTestId('live-state').getAttribute('data-startup-ms'));
  assert.ok(startupMs > 0 && startupMs <= 3000, `first frame after ${startupMs} ms`);
  console.log(`# idle camera live startup ${startupMs} ms`);
  const video = page.getByTestId('live-video');
  assert.deepEqual(await video.evaluate((v) => [v.videoWidth, v.videoHeight]), [640, 360]);
  const t0 = await video.evaluate((v) => v.currentTime);
  await new Promise((r) => setTimeout(r, 3000));
  const t1 = await video.evaluate((v) => v.currentTime);
  assert.ok(t1 - t0 > 2, `played ${t1 - t0} s in 3 s`);
  await page.screenshot({ path: path.join(out, 'device-live.png') });

  // The SD card: a recording on it plays (the camera pushes it on demand).
  await page.getByTestId('tab-sdcard').click();
  await page.getByTestId('sd-state').waitFor();
  for (let i = 0; i < 30 && (await page.getByTestId('sd-play').count()) === 0; ++i) {
    await page.waitForTimeout(1000);
    await page.reload();
    await page.getByTestId('sd-state').waitFor();
  }
  await page.getByTestId('sd-play').first().click();
  await page.getByTestId('sd-playback-state').filter({ hasText: 'Playing' }).waitFor({ timeout: 15000 });
  const sdVideo = page.getByTestId('sd-video');
  assert.deepEqual(await sdVideo.evaluate((v) => [v.videoWidth, v.videoHeight]), [640, 360]);
  const s0 = await sdVideo.evaluate((v) => v.currentTime);
  await new Promise((r) => setTimeout(r, 2000));
  const s1 = await sdVideo.evaluate((v) => v.currentTime);
  assert.ok(s1 - s0 > 1, `the recording played ${s1 - s0} s in 2 s`);
  await page.screenshot({ path: path.join(out, 'device-sdcard-playback.png'), fullPage: true });
  await page.getByRole('button', { name: 'Close' }).click();

  // Formatting asks first; declining changes nothing, accepting empties it.
  await page.getByTestId('sd-state').waitFor();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByTestId('sd-format').click();
  await page.waitForTimeout(300);
  assert.match(asked, /Erase every recording on Front door/);
  page.once('dialog', (d) => void d.accept());
  const formatted = page.waitForResponse((r) => r.url().endsWith('/sdcard/format'));
  await page.getByTestId('sd-format').click();
  assert.equal((await formatted).status(), 204);
  await page.getByTestId('sd-state').filter({ hasText: '0 recordings' }).waitFor();
  await page.screenshot({ path: path.join(out, 'device-sdcard.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('screenshot').click()]);
  assert.equal(download.suggestedFilename(), 'Front door.png');
  const file = path.join(out, 'device-screenshot.png');
  await download.saveAs(file);
  const { readFile } = await import('node:fs/promises');
  const png = await readFile(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the grid plays every camera at once', async () => {
  const login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page, login[1], login[2]);
  await page.goto(`${server.url}/devices/grid`);
  await page.getByTestId('tile').nth(1).waitFor({ timeout: 10000 });
  await page.getByTestId('tile-state').filter({ hasText: 'Live' }).nth(1).waitFor({ timeout: 15000 });
  const sizes = await page.locator('.tile-video').evaluateAll((vs) => vs.map((v) => [v.videoWidth, v.videoHeight]));
  assert.deepEqual(sizes, [[640, 360], [640, 360]]);
  await page.screenshot({ path: path.join(out, 'devices-grid.png') });
  await page.close();
});

test('adding a camera shows a one-time QR code', async () => {
  const login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('E-mail address').fill(login[1]);
  await page.getByLabel('Password').fill(login[2]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor();
  await page.goto(`${server.url}/devices/add`);
  await page.getByTestId('make-qr').click();
  await page.getByTestId('qr').waitFor();
  const payload = JSON.parse(await page.getByTestId('qr-payload').textContent());
  assert.equal(payload.v, 1);
  assert.ok(payload.token.length > 20);
  assert.match(payload.mqtt, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  const size = await page.locator('img.qr').evaluate((img) => img.naturalWidth);
  assert.ok(size > 100, `QR image ${size} px`);
  await page.screenshot({ path: path.join(out, 'device-add-qr.png') });

  // A camera that cannot scan: its serial and the pairing code on its label.
  await server.admin('device', 'add', '--serial', 'HAND-1', '--model', 'NJ-Label');
  const label = JSON.parse(await server.admin('device', 'label', '--serial', 'HAND-1'));
  await page.goto(`${server.url}/devices/add`);
  const form = page.getByTestId('add-by-serial');
  await form.getByLabel('Serial').fill('HAND-1');
  await form.getByLabel('Pairing code').fill('0000-0000');
  await form.getByRole('button', { name: 'Add this camera' }).click();
  await form.getByTestId('error').waitFor();
  await form.getByLabel('Pairing code').fill(label.pairing_code.toLowerCase());
  await form.getByRole('button', { name: 'Add this camera' }).click();
  // Added: a step to name it and say where it is, then its page.
  const named = page.getByTestId('added');
  await named.filter({ hasText: 'NJ-Label' }).waitFor();
  await named.getByLabel('Name').fill('Shed');
  await named.getByRole('button', { name: 'Garage' }).click();
  assert.equal(await named.getByLabel('Where it is').inputValue(), 'Garage');
  await page.screenshot({ path: path.join(out, 'device-add-name-it.png') });
  await named.getByTestId('name-it').click();
  await page.getByTestId('device-name').filter({ hasText: 'Shed' }).waitFor();
  const hand = (await (await page.request.get(`${server.url}/api/v1/devices`)).json()).devices.find((d) => d.serial === 'HAND-1');
  assert.equal(hand.place, 'Garage');
  // It has never been online: its page says so, and does not pretend to connect.
  await page.getByTestId('live-overlay').filter({ hasText: 'Camera offline' }).waitFor({ timeout: 10000 });
  await page.close();
});

test('sharing: the owner invites, the friend accepts and watches, the owner revokes', async () => {
  const login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  const owner = await browser.context.newPage();
  await signIn(owner, login[1], login[2]);

  // A friend with an account (signed up over the API, verified from the kept mail).
  const policy = (await (await fetch(`${server.url}/api/v1/policy`)).json()).version;
  const friend = { email: 'friend@example.org', password: 'a friendly long passphrase' };
  const reg = await fetch(`${server.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...friend, language: 'en', policy_version: policy }),
  });
  assert.equal(reg.status, 202);
  const verify = (await server.admin('outbox')).match(/verify\?token=([A-Za-z0-9_-]+)/)[1];
  await fetch(`${server.url}/api/v1/auth/verify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: verify }),
  });

  // The owner shares "Garden" from its page.
  await owner.goto(`${server.url}/devices`);
  await owner.getByRole('link', { name: 'Garden' }).click();
  await owner.getByTestId('device-name').filter({ hasText: 'Garden' }).waitFor();
  await owner.getByTestId('tab-sharing').click();
  await owner.getByLabel('E-mail address').fill(friend.email);
  await owner.getByTestId('invite').click();
  await owner.getByTestId('share-message').filter({ hasText: 'Invitation sent' }).waitFor();
  await owner.getByTestId('shares').getByText(friend.email).waitFor();
  await owner.screenshot({ path: path.join(out, 'device-sharing.png') });

  // The friend, in another browser, accepts and watches.
  const other = await launch();
  const page = await other.context.newPage();
  await signIn(page, friend.email, friend.password);
  await page.goto(`${server.url}/shares`);
  await page.getByTestId('invitation').getByRole('button', { name: 'Accept' }).click();
  await page.getByTestId('invitation').getByRole('link', { name: 'Open' }).click();
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 15000 });
  assert.equal(await page.getByTestId('unbind').count(), 0, 'a viewer cannot remove the camera');
  // A viewer sees live view only: no sections it cannot use, no recordings; and who shared it.
  assert.equal(await page.getByRole('tab').count(), 0, 'a viewer has no settings, card or sharing');
  assert.equal(await page.getByTestId('recordings-link').count(), 0);
  await page.getByTestId('shared-by').waitFor();
  await page.screenshot({ path: path.join(out, 'device-shared-live.png') });
  const deviceUrl = page.url();
  await page.goto(`${deviceUrl}/playback`);
  await page.getByTestId('not-allowed').waitFor();
  assert.equal(await page.getByTestId('timeline').count(), 0, 'a viewer is not shown the recordings page');
  await page.goto(deviceUrl);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 15000 });

  // The owner revokes: the friend's view stops at once, says why, and does not come back.
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await owner.getByTestId('shares').getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('live-overlay').filter({ hasText: 'Your access to this camera was removed.' }).waitFor({ timeout: 5000 });
  await page.screenshot({ path: path.join(out, 'device-access-removed.png') });
  const before = requests.filter((u) => u.includes('/stream') || u.includes('/live')).length;
  await page.waitForTimeout(3000);
  assert.equal(requests.filter((u) => u.includes('/stream') || u.includes('/live')).length, before, 'it does not retry');
  // The page, when it next reads the camera, keeps saying why (not "no such camera").
  await page.getByTestId('device-missing').filter({ hasText: 'Your access to this camera was removed.' }).waitFor({ timeout: 20000 });
  const r = await page.evaluate(async (u) => (await fetch(u)).status, `/api/v1/devices`);
  assert.equal(r, 200);
  const list = await page.evaluate(async () => (await (await fetch('/api/v1/devices')).json()).devices.length);
  assert.equal(list, 0);
  await other.close();
  await owner.close();
});

test('a recording plays from any instant: the first frame shown is the one asked for', async () => {
  const login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await signIn(page, login[1], login[2]);
  // The demo's Garden camera is recorded continuously (its plan); wait for 15 s of it.
  const garden = await page.evaluate(async () => {
    const r = await (await fetch('/api/v1/devices')).json();
    return r.devices.find((d) => d.serial === 'DEMO-CAM-2').id;
  });
  let span = null;
  for (let i = 0; i < 60 && !span; ++i) {
    const r = await page.evaluate(async (id) => {
      const now = Date.now();
      return (await fetch(`/api/v1/devices/${id}/recordings?from=${now - 3600000}&to=${now + 60000}`)).json();
    }, garden);
    const s = r.spans.at(-1);
    if (s && Date.parse(s.end) - Date.parse(s.start) >= 15000) span = s;
    else await new Promise((res) => setTimeout(res, 1000));
  }
  assert.ok(span, 'fifteen seconds recorded');
  // An instant that is no keyframe: 7.35 s into the recording.
  const at = Date.parse(span.start) + 7350;

  // The reference: the first frame the server's clip shows from that instant (edit list),
  // decoded by ffmpeg; its frame counter.
  const clip = await page.evaluate(async ({ id, at }) => {
    const r = await fetch(`/api/v1/devices/${id}/clip.mp4?from=${at}&to=${at + 3000}`);
    return Array.from(new Uint8Array(await r.arrayBuffer()));
  }, { id: garden, at });
  const { writeFile } = await import('node:fs/promises');
  const { execFileSync } = await import('node:child_process');
  const clipFile = path.join(out, 'recording-clip.mp4');
  await writeFile(clipFile, Buffer.from(clip));
  const times = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', clipFile])
    .toString()
    .trim()
    .split('\n')
    .map(Number);
  const hidden = times.filter((t) => t < -1e-6).length;
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', clipFile, '-vf', 'crop=640:20:0:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    maxBuffer: 1 << 26,
  });
  const counterAt = (frame) => {
    let n = 0;
    for (let bit = 0; bit < 16; ++bit) n = (n << 1) | (raw[frame * 640 * 20 + 10 * 640 + bit * 40 + 20] > 128 ? 1 : 0);
    return n;
  };
  const expected = counterAt(hidden);

  // The page, opened at that instant: hls.js loads the playlist, which starts at the
  // keyframe before and says where to begin (EXT-X-START).
  await page.goto(`${server.url}/devices/${garden}/playback?at=${at}`);
  await page.getByTestId('span').first().waitFor();
  const video = page.getByTestId('playback-video');
  await page.waitForFunction(
    () => {
      const v = document.querySelector('[data-testid=playback-video]');
      return v && v.readyState >= 2 && !v.seeking && v.currentTime > 0;
    },
    null,
    { timeout: 15000 },
  );
  const shown = await video.evaluate((v) => {
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = 20;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, 20).data;
    let n = 0;
    for (let bit = 0; bit < 16; ++bit) n = (n << 1) | (px[(10 * c.width + bit * 40 + 20) * 4] > 128 ? 1 : 0);
    return n;
  });
  // The browser shows the frame whose interval holds the instant; ffmpeg's first shown frame
  // is the first at or after it: the same or the next one.
  console.log(`# playback from an instant: frame ${shown} shown, ${expected} expected`);
  assert.ok(Math.abs(shown - expected) <= 1, `frame ${shown} shown, ${expected} expected`);
  // It plays on, faster when asked.
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const t0 = await video.evaluate((v) => v.currentTime);
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok((await video.evaluate((v) => v.currentTime)) > t0, 'plays');
  await page.getByTestId('playback-time').waitFor();
  await page.screenshot({ path: path.join(out, 'device-playback.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
