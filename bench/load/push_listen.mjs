// The browser side of bench/load/push_latency.sh: a Web Push service on loopback (the
// tests' web-push-testing model, which checks VAPID and decrypts), subscribed for the
// server's key and registered as the person's browser. On SIGTERM it writes one line per
// push that arrived and decrypted: "<device_id> <arrival unix_us>", in arrival order.
// Usage: node push_listen.mjs API_BASE TOKEN OUT_FILE (PUSH_ANSWER_MS in the environment: each
// push is answered that much later, as by a push service an internet round trip away)
import { writeFileSync } from 'node:fs';
import { startPushService } from '../../web/tests/push-service.mjs';

const [api, token, out] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${token}` };
const push = await startPushService({ answerDelayMs: Number(process.env.PUSH_ANSWER_MS ?? 0) });
const key = await (await fetch(`${api}/push/key`, { headers: auth })).json();
const subscription = await push.subscribe(key.public_key);
const added = await fetch(`${api}/me/push-subscriptions`, {
  method: 'POST',
  headers: { ...auth, 'Content-Type': 'application/json' },
  body: JSON.stringify({ endpoint: subscription.endpoint, keys: subscription.keys }),
});
if (added.status !== 201) throw new Error(`subscription refused: ${added.status}`);
console.log('push service ready', push.url);

process.on('SIGTERM', async () => {
  const messages = await push.messages(subscription.clientHash);
  const arrivals = push.received.filter((r) => r.status === 201).map((r) => r.at_us);
  const lines = messages.map((m, i) => `${JSON.parse(m).device_id} ${arrivals[i]}`);
  writeFileSync(out, lines.join('\n') + '\n');
  await push.close();
  process.exit(0);
});
setInterval(() => {}, 1000);
