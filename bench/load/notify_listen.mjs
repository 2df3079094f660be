// Listens to a person's in-app notifications (GET /api/v1/notifications) and writes, per
// notification, "device_id unix_us" with the time it arrived. For notify_latency.sh.
//   node bench/load/notify_listen.mjs URL TOKEN OUT_FILE
// Uses the `ws` package from web/node_modules (Node 20's WebSocket cannot send a header).
import { createRequire } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const WebSocket = require('ws');
const [url, token, out] = process.argv.slice(2);
writeFileSync(out, '');
const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
let lines = [];
ws.on('message', (data) => {
  const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const m = JSON.parse(String(data));
  if (m.type === 'hello') console.log(`listening (consent ${m.consent})`);
  if (m.type === 'event') lines.push(`${m.device_id} ${us}\n`);
});
setInterval(() => {
  if (lines.length) appendFileSync(out, lines.join(''));
  lines = [];
}, 200);
ws.on('close', () => process.exit(0));
