// The people's side of bench/load/talk_load.sh: one talk WebSocket per camera id, each
// sending, once the line is ready, a 20 ms frame of G.711 µ-law every 20 ms for SECONDS, as
// the app does. Each frame's first 8 samples carry the wall-clock µs it was sent at (the
// server passes samples on as they came; the device side reads them back). Prints how many
// lines were ready and listened to, and how many frames went.
//   node bench/load/talk_send.mjs API_WS_BASE TOKEN IDS_FILE SECONDS
// Uses the `ws` package from web/node_modules (Node 20's WebSocket cannot send a header).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const WebSocket = require('ws');
const [base, token, idsFile, secondsText] = process.argv.slice(2);
const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const seconds = Number(secondsText);
let ready = 0, listening = 0, busy = 0, frames = 0, closed = 0;
const sockets = [];

for (const id of ids) {
  const ws = new WebSocket(`${base}/devices/${id}/talk`, { headers: { Authorization: `Bearer ${token}` } });
  sockets.push(ws);
  ws.on('message', (data, binary) => {
    if (binary) return;
    const m = JSON.parse(String(data));
    if (m.type === 'ready') {
      ready++;
      ws.started = true;
    } else if (m.type === 'listening') listening++;
    else if (m.type === 'busy') busy++;
  });
  ws.on('close', () => closed++);
  ws.on('error', () => {});
}

const frame = Buffer.alloc(161, 0xff); // µ-law silence after the time stamp
frame[0] = 0x01;
const started = Date.now();
const timer = setInterval(() => {
  const us = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  for (const ws of sockets) {
    if (!ws.started || ws.readyState !== WebSocket.OPEN) continue;
    const f = Buffer.from(frame);
    f.writeBigInt64BE(us, 1);
    ws.send(f);
    frames++;
  }
  if (Date.now() - started > seconds * 1000) {
    clearInterval(timer);
    for (const ws of sockets) ws.close(1000);
    setTimeout(() => {
      console.log(`talk lines=${ids.length} ready=${ready} listening=${listening} busy=${busy} frames_sent=${frames} closed=${closed}`);
      process.exit(0);
    }, 500);
  }
}, 20);
