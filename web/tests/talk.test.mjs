// Two-way talk in Chromium (issue #15): a fake microphone playing a 1 kHz tone, the live
// view's talk button held, and a real nightjar-cam whose speaker (a WAV file) must then hold
// that tone; the level meter moves while talking, the microphone is let go on release.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { outputDir } from './server.mjs';
import { demoApp } from './demo-app.mjs';

const out = path.join(outputDir(), 'browser', 'talk');
let app, work, cam, cameraId;

// A WAV of `silent` seconds of silence, then a tone: 48 kHz, mono, 16-bit.
function toneWav(hz, seconds, silent = 0, rate = 48000) {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = Math.round(silent * rate); i < n; i++) {
    b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  }
  return b;
}

// G.711 µ-law back to a 16-bit sample.
function fromUlaw(u) {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

// The power of one frequency in the samples (Goertzel).
function powerAt(samples, hz, rate = 8000) {
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0, s2 = 0;
  for (const x of samples) {
    const s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

before(async () => {
  await mkdir(out, { recursive: true });
  work = await mkdtemp(path.join(tmpdir(), 'nj-talk-'));
  // The fake microphone is silent for 2 s from the moment it is opened, then plays the tone:
  // the tone's arrival times the way from the page to the camera's speaker.
  await writeFile(path.join(work, 'tone.wav'), toneWav(1000, 12, 2));
  app = await demoApp({
    browserArgs: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${path.join(work, 'tone.wav')}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

after(async () => {
  cam?.kill('SIGTERM');
  await app?.browser.close();
  assert.equal(await app?.server.stop(), 0);
  await rm(work, { recursive: true, force: true });
});

test('holding the talk button plays the microphone on the camera\'s speaker', async () => {
  const { server, open, signIn, call } = app;
  await app.browser.context.grantPermissions(['microphone'], { origin: server.url });
  const { page, problems } = await open();
  await signIn(page);
  // Our own camera, with a speaker, added by its label.
  const serial = 'TALK-1';
  const secret = await server.admin('device', 'add', '--serial', serial, '--model', 'NJ-Sim');
  await writeFile(path.join(work, 'secret'), `${secret}\n`);
  const label = JSON.parse(await server.admin('device', 'label', '--serial', serial));
  const added = await call(page, 'POST', '/devices', { serial, pairing_code: label.pairing_code });
  assert.equal(added.status, 201, JSON.stringify(added.json));
  const speaker = path.join(work, 'speaker.wav');
  cam = spawn(
    path.join(path.dirname(process.env.NJ_BIN), 'nightjar-cam'),
    ['--server', server.url, '--serial', serial, '--secret-file', path.join(work, 'secret'), '--simulate', '--size', '320x240', '--speaker', speaker, '--sync-marks'],
    { stdio: ['ignore', openSync(path.join(work, 'cam.log'), 'a'), 'ignore'] },
  );
  await page.goto(`${server.url}/devices/${added.json.id}`);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 20000 });

  // Held: the line opens, the camera listens, the meter moves.
  const button = page.getByTestId('talk');
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.locator('[data-testid="talk-state"][data-state="listening"]').waitFor({ timeout: 10000 });
  // The camera's sound is ducked while talking.
  const liveVideo = page.getByTestId('live-video');
  assert.ok((await liveVideo.evaluate((v) => v.volume)) < 0.8 / 5, 'ducked while talking');
  // The tone begins: the meter shows it, then the camera's speaker plays it.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="talk-level"]')?.value) > 0.02, null, {
    polling: 'raf',
    timeout: 10000,
  });
  const metered = Date.now();
  let played = 0;
  for (let i = 0; i < 400 && !played; i++) {
    const w = await readFile(speaker).catch(() => Buffer.alloc(0));
    for (let j = 58; j < w.length; j++) {
      if (Math.abs(fromUlaw(w[j])) > 1000) {
        played = Date.now();
        break;
      }
    }
    if (!played) await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(played, 'the tone reached the speaker');
  console.log(`# talk: the meter showing the tone -> the camera's speaker playing it: ${played - metered} ms`);
  // What Chromium says its capture path adds before the page sees the microphone.
  const captureLatency = await page.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    const latency = s.getAudioTracks()[0].getSettings().latency;
    s.getTracks().forEach((t) => t.stop());
    return latency;
  });
  console.log(`# talk: the browser's reported capture latency: ${captureLatency === undefined ? 'not reported' : `${(captureLatency * 1000).toFixed(1)} ms`}`);
  assert.ok(played - metered < 400, `mouth to ear ${played - metered} ms`);
  await page.waitForTimeout(2000);
  const level = Number(await page.getByTestId('talk-level').getAttribute('value'));
  assert.ok(level > 0.02, `the meter shows the microphone (${level})`);
  await page.screenshot({ path: path.join(out, 'talking-en-desktop.png') });
  await page.mouse.up();
  await page.getByTestId('talk-state').waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await button.getAttribute('aria-pressed'), 'false');
  assert.equal(await liveVideo.evaluate((v) => v.volume), 0.8, 'the sound is back after talking');

  // The camera's speaker: the tone, at 1 kHz, about as long as the button was held.
  let wav = Buffer.alloc(0);
  for (let i = 0; i < 50 && wav.length < 58 + 8000; i++) {
    wav = await readFile(speaker).catch(() => Buffer.alloc(0));
    await page.waitForTimeout(100);
  }
  const samples = [...wav.subarray(58)].map(fromUlaw);
  assert.ok(samples.length >= 8000 * 2 && samples.length <= 8000 * 6, `${samples.length} samples played`);
  const tone = powerAt(samples, 1000);
  for (const other of [300, 700, 1500, 2500]) {
    assert.ok(tone > 50 * powerAt(samples, other), `1 kHz stands out over ${other} Hz`);
  }
  // On record for the owner: one call.
  const calls = await call(page, 'GET', `/devices/${added.json.id}/calls`);
  assert.equal(calls.json.calls.length, 1);
  assert.deepEqual(problems, []);
  await page.close();
  cameraId = added.json.id;
});

// The simulated camera beeps (440 Hz) for the first 200 ms of every second and shows a white
// square meanwhile (--sync-marks). In the live view, with the sound on: the page's audio,
// taken from the video element with WebAudio, holds the tone, and each beep is heard within
// 100 ms of its square being shown.
test('the camera\'s sound plays in the live view, in step with the picture', async () => {
  const { server, open, signIn } = app;
  assert.ok(cameraId, 'the camera of the first test');
  const { page, problems } = await open();
  await signIn(page);
  await page.goto(`${server.url}/devices/${cameraId}`);
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor({ timeout: 20000 });
  const sound = page.getByTestId('sound');
  await sound.scrollIntoViewIfNeeded();
  await sound.click();
  const result = await page.getByTestId('live-video').evaluate(
    (video) =>
      new Promise((resolve) => {
        const ctx = new AudioContext();
        const source = ctx.createMediaElementSource(video);
        const tap = ctx.createScriptProcessor(256, 1, 1);
        source.connect(tap);
        tap.connect(ctx.destination);
        source.connect(ctx.destination);
        const heard = [], seen = [], beeps = [];
        let loud = false, collecting = 0;
        const toPerformance = (contextTime) => {
          const stamp = ctx.getOutputTimestamp();
          return stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
        };
        tap.onaudioprocess = (e) => {
          const x = e.inputBuffer.getChannelData(0);
          let energy = 0;
          for (const v of x) energy += v * v;
          const rms = Math.sqrt(energy / x.length);
          if (collecting > 0) {
            beeps[beeps.length - 1].push(...x);
            collecting--;
          }
          if (rms > 0.02 && !loud) {
            loud = true;
            heard.push(toPerformance(e.playbackTime));
            beeps.push([]);
            collecting = 16; // the next 85 ms of the beep
          } else if (rms < 0.005 && loud) {
            loud = false;
          }
        };
        const canvas = document.createElement('canvas');
        canvas.width = 32;
        canvas.height = 24;
        const g = canvas.getContext('2d', { willReadFrequently: true });
        let bright = false;
        const onFrame = (now, meta) => {
          g.drawImage(video, 0, 0, 32, 24);
          const d = g.getImageData(28, 20, 4, 4).data; // the bottom-right corner
          let y = 0;
          for (let i = 0; i < d.length; i += 4) y += (d[i] + d[i + 1] + d[i + 2]) / 3;
          y /= d.length / 4;
          if (y > 200 && !bright) seen.push(meta.expectedDisplayTime);
          bright = y > 200;
          video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
        void ctx.resume();
        setTimeout(
          () =>
            resolve({
              heard,
              seen,
              origin: performance.timeOrigin,
              beep: beeps[1] ?? beeps[0] ?? [],
              rate: ctx.sampleRate,
              state: ctx.state,
            }),
          8000,
        );
      }),
  );
  assert.ok(result.heard.length >= 4, `beeps heard: ${result.heard.length} (${result.state})`);
  assert.ok(result.seen.length >= 4, `squares seen: ${result.seen.length}`);
  // The tone: 440 Hz stands out in what was heard.
  const p440 = powerAt(result.beep, 440, result.rate);
  assert.ok(p440 > 20 * powerAt(result.beep, 1000, result.rate), 'the beep is a 440 Hz tone');
  // Each beep against the square nearest to it.
  const offsets = result.heard.map((h) => {
    let best = Infinity;
    for (const s of result.seen) if (Math.abs(h - s) < Math.abs(best)) best = h - s;
    return best;
  });
  offsets.sort((a, b) => a - b);
  const median = offsets[Math.floor(offsets.length / 2)];
  console.log(`# A/V offset (sound after picture) median ${median.toFixed(1)} ms, all ${offsets.map((o) => o.toFixed(0)).join(' ')}`);
  assert.ok(Math.abs(median) <= 100, `sound and picture ${median.toFixed(1)} ms apart`);
  // Camera to ear: each beep starts on a whole second after the simulator's clock origin
  // (its log says it); the page heard it at performance.timeOrigin + heard, on the same
  // machine's clock. (The simulator encodes sound up to one frame period ahead of its
  // nominal time, so up to 40 ms of the way may not show.)
  const log = await readFile(path.join(work, 'cam.log'), 'utf8');
  const origin = Number(/cam\.simulate\.clock origin_us=(\d+)/.exec(log)?.[1]) / 1000;
  assert.ok(origin > 0, 'the simulator logged its clock');
  const delays = result.heard.map((h) => (((result.origin + h - origin) % 1000) + 1000) % 1000).sort((a, b) => a - b);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  console.log(`# camera -> ear (live view sound): p50 ${at(0.5).toFixed(0)} ms, max ${delays[delays.length - 1].toFixed(0)} ms over ${delays.length} beeps`);
  assert.deepEqual(problems, []);
  await page.close();
});
