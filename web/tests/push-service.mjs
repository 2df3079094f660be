// A Web Push service on loopback for the tests: the npm package web-push-testing's own model
// (it checks the VAPID token with jsonwebtoken and decrypts aes128gcm with http_ece, the
// libraries the web-push ecosystem uses), served here on 127.0.0.1 and a free port.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { PushApiModel, SubscriptionExpiredError } = require('web-push-testing/src/PushApiModel.js');

// answerDelayMs: how long each push waits before it is answered (a push service an internet
// round trip away), for the load figures; the tests use 0.
export async function startPushService({ answerDelayMs = 0 } = {}) {
  const model = new PushApiModel();
  const received = [];  // every request to a notify URL: {status, headers, at_us (its arrival)}
  const server = http.createServer((req, res) => {
    const at_us = Math.round((performance.timeOrigin + performance.now()) * 1000);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const send = (status, value) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(value === undefined ? '' : JSON.stringify(value));
      };
      try {
        const url = new URL(req.url, 'http://127.0.0.1');
        const notify = url.pathname.match(/^\/notify\/([0-9a-f]+)$/);
        const expire = url.pathname.match(/^\/expire-subscription\/([0-9a-f]+)$/);
        if (req.method === 'POST' && url.pathname === '/subscribe') {
          return send(200, { data: await model.subscribe(JSON.parse(body.toString())) });
        }
        if (req.method === 'POST' && url.pathname === '/get-notifications') {
          return send(200, { data: model.getNotifications(JSON.parse(body.toString())) });
        }
        if (req.method === 'POST' && expire) {
          model.expireSubscription(expire[1]);
          return send(200);
        }
        if (req.method === 'POST' && notify) {
          const headers = {
            encoding: req.headers['content-encoding'],
            authorization: req.headers.authorization,
            ttl: req.headers.ttl,
          };
          try {
            await model.handleNotification(notify[1], headers, body);
            received.push({ status: 201, headers: req.headers, at_us });
            if (answerDelayMs > 0) await new Promise((r) => setTimeout(r, answerDelayMs));
            return send(201);
          } catch (e) {
            // An unknown or expired subscription is gone (410), as a real push service says.
            const gone = e instanceof SubscriptionExpiredError;
            received.push({ status: gone ? 410 : 400, headers: req.headers, error: e.message, at_us });
            return send(gone ? 410 : 400, { error: { message: e.message } });
          }
        }
        send(404);
      } catch (e) {
        send(400, { error: { message: String(e) } });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  model.notifyUrl = `http://127.0.0.1:${port}/notify/`;
  const call = async (path, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return r.json().catch(() => null);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    // A browser's subscription to this service for a server's VAPID key.
    subscribe: async (applicationServerKey) => (await call('/subscribe', { applicationServerKey })).data,
    messages: async (clientHash) => (await call('/get-notifications', { clientHash })).data.messages,
    expire: (clientHash) => call(`/expire-subscription/${clientHash}`),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
