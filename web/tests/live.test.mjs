// Live view in Chromium: ffmpeg pushes a camera stream (H.264 + AAC) over RTSP; the web app plays it over
// the WebSocket with MSE. It must start fast, show the right picture (not black) and keep
// playing for 30 seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, outputDir } from './server.mjs';
import { launch } from './browser.mjs';

let server;
let browser;
let pusher;
let work;
const out = path.join(outputDir(), 'browser');

before(async () => {
  await mkdir(out, { recursive: true });
  work = await mkdtemp(path.join(tmpdir(), 'nj-live-'));
  const clip = path.join(work, 'clip.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000', '-t', '60',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0', '-c:a', 'aac', '-shortest', clip]);
  server = await startServer();
  const token = await server.admin('stream-token', '--serial', 'CAM1', '--purpose', 'push');
  pusher = spawn('ffmpeg', ['-loglevel', 'error', '-re', '-i', clip, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp',
    `rtsp://127.0.0.1:${server.rtspPort}/push/CAM1?token=${token}`], { stdio: 'ignore' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  pusher?.kill('SIGTERM');
  assert.equal(await server?.stop(), 0);
  await rm(work, { recursive: true, force: true });
});

test('live view plays the pushed stream in Chromium and keeps playing', async () => {
  const token = await server.admin('stream-token', '--serial', 'CAM1', '--purpose', 'play', '--ttl-seconds', '600');
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  // Wait for the pusher to be up before opening the page.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${server.url}/metrics`).then((x) => x.text());
    if (/nightjar_rtsp_connections 1/.test(r)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500)); // a keyframe is in the hub's cache
  await page.goto(`${server.url}/live?serial=CAM1&token=${encodeURIComponent(token)}`);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 10000 });
  // From the player's start to the first frame on screen.
  const startupMs = Number(await page.getByTestId('live-state').getAttribute('data-startup-ms'));
  assert.ok(startupMs > 0 && startupMs <= 1000, `first frame after ${startupMs} ms`);
  console.log(`# live startup ${startupMs} ms`);
  const video = page.getByTestId('live-video');
  const size = await video.evaluate((v) => [v.videoWidth, v.videoHeight]);
  assert.deepEqual(size, [640, 360]);

  // Not black: the frame drawn to a canvas has varied, bright pixels (testsrc2 is colourful).
  const stats = await video.evaluate((v) => {
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0, sq = 0, n = 0;
    for (let i = 0; i < d.length; i += 4 * 97) {
      const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
      sum += y;
      sq += y * y;
      n++;
    }
    const mean = sum / n;
    return { mean, sd: Math.sqrt(sq / n - mean * mean) };
  });
  assert.ok(stats.mean > 20 && stats.sd > 20, `picture looks black or flat: ${JSON.stringify(stats)}`);
  await page.screenshot({ path: path.join(out, 'live-playing.png') });

  // Keeps playing for 30 s: currentTime advances with the clock, latency stays low.
  const t0 = await video.evaluate((v) => v.currentTime);
  await new Promise((r) => setTimeout(r, 30000));
  const t1 = await video.evaluate((v) => v.currentTime);
  assert.ok(t1 - t0 > 28, `played ${t1 - t0} s in 30 s`);
  // The camera's AAC audio plays too (decoded by the page's media pipeline).
  const audioBytes = await video.evaluate((v) => v.webkitAudioDecodedByteCount);
  assert.ok(audioBytes > 0, 'audio was decoded');
  const latency = await page.getByTestId('live-latency').textContent();
  const ms = Number(latency.match(/(\d+)/)[1]);
  assert.ok(ms < 1500, `latency ${ms} ms`);
  await page.screenshot({ path: path.join(out, 'live-after-30s.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('an LL-HLS live playlist plays with hls.js', async () => {
  const token = await server.admin('stream-token', '--serial', 'CAM1', '--purpose', 'play', '--ttl-seconds', '600');
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}/live?serial=CAM1&mode=hls&token=${encodeURIComponent(token)}`);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 15000 });
  const startupMs = Number(await page.getByTestId('live-state').getAttribute('data-startup-ms'));
  console.log(`# hls startup ${startupMs} ms`);
  const video = page.getByTestId('live-video');
  assert.deepEqual(await video.evaluate((v) => [v.videoWidth, v.videoHeight]), [640, 360]);
  const t0 = await video.evaluate((v) => v.currentTime);
  await new Promise((r) => setTimeout(r, 8000));
  const t1 = await video.evaluate((v) => v.currentTime);
  assert.ok(t1 - t0 > 6.5, `played ${t1 - t0} s in 8 s`);
  // hls.js used the low-latency features: blocking playlist reloads and parts.
  assert.ok(requests.some((u) => u.includes('_HLS_msn=')), 'blocking playlist reload');
  assert.ok(requests.some((u) => /\/hls\/p\d+\.\d+\.m4s/.test(u)), 'parts were loaded');
  const latency = await page.getByTestId('live-latency').textContent();
  console.log(`# hls ${latency}`);
  await page.screenshot({ path: path.join(out, 'live-hls.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a G.711 camera is heard in Chromium (µ-law relayed as FLAC in the fMP4 feed)', async () => {
  const push = await server.admin('stream-token', '--serial', 'G711', '--purpose', 'push');
  const play = await server.admin('stream-token', '--serial', 'G711', '--purpose', 'play', '--ttl-seconds', '600');
  const camera = spawn('ffmpeg', ['-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000', '-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-g', '25', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1',
    '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${server.rtspPort}/push/G711?token=${push}`], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 2500));
    const page = await browser.context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`${server.url}/live?serial=G711&token=${encodeURIComponent(play)}`);
    await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 10000 });
    await new Promise((r) => setTimeout(r, 3000));
    const video = page.getByTestId('live-video');
    const audioBytes = await video.evaluate((v) => v.webkitAudioDecodedByteCount);
    assert.ok(audioBytes > 0, 'the G.711 audio was decoded');
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    camera.kill('SIGTERM');
  }
});
