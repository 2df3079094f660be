// Web Push end to end (issue #14): `nightjar serve --demo` pushes the Garden camera's visits
// to a push service on loopback that does what a browser's push service does: it checks the
// VAPID token (jsonwebtoken, ES256) and decrypts the aes128gcm message (http_ece), the
// libraries of the web-push ecosystem (npm web-push-testing's model). Nothing is pushed
// without the person's consent, the message names no picture, and a subscription the push
// service says is gone (410) is dropped at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { startPushService } from './push-service.mjs';

let server;
let push;
let token;

async function api(method, url, body) {
  const r = await fetch(`${server.url}/api/v1${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

before(async () => {
  push = await startPushService();
  // This push service is on loopback and plain HTTP: allowed here, never by default.
  server = await startServer({
    extraArgs: ['--demo'],
    config: '[notify]\npush_hosts = ["127.0.0.1"]\npush_allow_http = true\n',
  });
  let login;
  for (let i = 0; i < 100 && !login; ++i) {
    login = server.log().match(/Demo login: (\S+) \/ (\S+)/);
    if (!login) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(login, 'the demo server prints its login');
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: login[1], password: login[2] }),
  });
  token = (await r.json()).token;
  assert.ok(token);
});

after(async () => {
  if (server) assert.equal(await server.stop(), 0);
  await push?.close();
});

// The next visit of the demo's intruder, seen in the event list.
async function nextVisit() {
  const count = async () => (await api('GET', '/events?kind=motion')).json.events.length;
  const before = await count();
  const deadline = Date.now() + 45000;
  while ((await count()) <= before) {
    assert.ok(Date.now() < deadline, `no visit within 45 s\n${server.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return (await api('GET', '/events?kind=motion&limit=1')).json.events[0];
}

async function messagesFor(hash, atLeast, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await push.messages(hash);
    if (m.length >= atLeast || Date.now() > deadline) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('pushes reach the push service, decrypt, carry no picture, and stop without consent or subscription', async () => {
  const key = await api('GET', '/push/key');
  assert.equal(key.status, 200);
  const subscription = await push.subscribe(key.json.public_key);
  assert.ok(subscription?.endpoint, 'the push service subscribed us');
  // A subscription to a push service the server does not trust is refused, as are bad keys.
  assert.equal((await api('POST', '/me/push-subscriptions', { endpoint: 'https://evil.example/x', keys: subscription.keys })).status, 400);
  assert.equal(
    (await api('POST', '/me/push-subscriptions', { endpoint: subscription.endpoint, keys: { p256dh: 'AAAA', auth: subscription.keys.auth } })).status,
    400,
  );
  const added = await api('POST', '/me/push-subscriptions', { endpoint: subscription.endpoint, keys: subscription.keys });
  assert.equal(added.status, 201, JSON.stringify(added.json));
  assert.equal((await api('PATCH', '/me/notifications', { cooldown_s: 0 })).status, 200);

  // No consent: a visit pushes nothing.
  await nextVisit();
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await push.messages(subscription.clientHash), []);

  // Consent given: the next visit arrives, decrypted by the push service, VAPID checked.
  assert.equal((await api('PUT', '/me/consents/notify.push', { granted: true })).status, 200);
  const visit = await nextVisit();
  const messages = await messagesFor(subscription.clientHash, 1);
  assert.equal(messages.length, 1, server.log().slice(-2000));
  const message = JSON.parse(messages[0]);
  assert.equal(message.event_id, visit.id);
  assert.equal(message.kind, 'motion');
  assert.equal(message.title, 'Motion at Garden');
  assert.equal(message.snapshot, undefined, 'never the picture');
  // Its "Silence 30 min" button works without a session (the service worker has none to
  // send), with this token only, and only for this camera.
  assert.equal(message.snooze.label, 'Silence 30 min');
  const snoozeWith = (t) =>
    fetch(`${server.url}/api/v1/notifications/snooze`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: t }) });
  assert.equal((await snoozeWith(message.snooze.token.slice(0, -1) + (message.snooze.token.endsWith('A') ? 'B' : 'A'))).status, 401);
  assert.equal((await snoozeWith('s1.x.y.1.z')).status, 401);
  const snoozed = await snoozeWith(message.snooze.token);
  assert.equal(snoozed.status, 200);
  assert.equal((await snoozed.json()).device_id, message.device_id);
  const cameras = (await api('GET', '/me/notifications')).json.cameras;
  assert.ok(cameras.find((c) => c.device_id === message.device_id).snoozed_until, 'snoozed');
  await nextVisit();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await push.messages(subscription.clientHash)).length, 1, 'snoozed: nothing more');
  assert.equal((await api('PATCH', `/devices/${message.device_id}/notifications`, { snooze_minutes: 0 })).status, 200);

  const request = push.received.find((r) => r.status === 201);
  assert.equal(request.headers['content-encoding'], 'aes128gcm');
  assert.match(request.headers.authorization, /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);

  // The browser unsubscribed (the push service now answers 410): the subscription goes.
  await push.expire(subscription.clientHash);
  await nextVisit();
  const deadline = Date.now() + 10000;
  while ((await api('GET', '/me/push-subscriptions')).json.subscriptions.length > 0) {
    assert.ok(Date.now() < deadline, 'the subscription was not dropped');
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(push.received.some((r) => r.status === 410));
});
