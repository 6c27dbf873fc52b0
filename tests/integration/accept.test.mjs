// POST /v1/messages end to end against the real server: auth, validation, errors, GETs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Herald, basic, jwt, unsignedJwt, post, SMS, RCS_TO_SMS, UUID_RE } from '../support/herald.mjs';

let herald;
let app;
let other;

before(async () => {
  herald = new Herald();
  app = await herald.createApp('alpha');
  other = await herald.createApp('beta');
  await herald.start();
});
after(async () => { await herald.stop(); herald.cleanup(); });

test('health, readiness and X-Request-Id on every response', async () => {
  for (const path of ['/healthz', '/readyz', '/nope', '/v1/messages/x']) {
    const res = await herald.fetch(path);
    assert.match(res.headers.get('x-request-id') ?? '', UUID_RE, path);
  }
  assert.equal((await herald.fetch('/healthz')).status, 200);
  assert.equal((await herald.fetch('/readyz')).status, 200);
});

test('accepts an SMS with Basic auth and with a JWT', async () => {
  for (const auth of [basic(app), `Bearer ${jwt(app)}`]) {
    const r = await post(herald, auth, SMS);
    assert.equal(r.status, 202, r.text);
    assert.match(r.json.message_uuid, UUID_RE);
    assert.equal(r.json.workflow_id, undefined);
    const got = await herald.fetch(`/v1/messages/${r.json.message_uuid}`, { headers: { Authorization: auth } });
    assert.equal(got.status, 200);
    const m = await got.json();
    assert.equal(m.channel, 'sms');
    assert.equal(m.to, '447700900001');
    assert.equal(m.status, 'queued');
  }
});

test('failover returns a workflow whose items keep their order and own uuids', async () => {
  const r = await post(herald, basic(app), RCS_TO_SMS);
  assert.equal(r.status, 202, r.text);
  assert.match(r.json.workflow_id, /^[0-9A-Za-z]{55}$/);
  const res = await herald.fetch(`/v1/workflows/${r.json.workflow_id}`, { headers: { Authorization: basic(app) } });
  assert.equal(res.status, 200);
  const wf = await res.json();
  assert.equal(wf.items_total, '2');
  assert.deepEqual(wf.items.map((i) => i.channel), ['rcs', 'sms']);
  assert.deepEqual(wf.items.map((i) => i.status), ['queued', 'waiting']);
  assert.equal(wf.items[0].message_uuid, r.json.message_uuid);
  assert.notEqual(wf.items[1].message_uuid, r.json.message_uuid);
  const primary = await (await herald.fetch(`/v1/messages/${r.json.message_uuid}`, { headers: { Authorization: basic(app) } })).json();
  assert.deepEqual(primary.workflow, { workflow_id: r.json.workflow_id, items_number: '1', items_total: '2' });
});

test('422 names every invalid field, including failover items', async () => {
  const r = await post(herald, basic(app), {
    channel: 'sms', message_type: 'text', to: '12', from: 'Herald',
    failover: [{ channel: 'whatsapp', message_type: 'text', to: '447700900001', from: '447700900002' }],
  });
  assert.equal(r.status, 422);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.json.title, 'Invalid recipient');
  assert.deepEqual(r.json.invalid_parameters.map((p) => p.name), ['to', 'text', 'failover[0].text']);
  assert.match(r.json.instance, /^[0-9a-f]{32}$/);
});

test('400 invalid JSON, 415 wrong content type, 413 too large', async () => {
  assert.equal((await post(herald, basic(app), '{"channel":')).status, 400);
  assert.equal((await post(herald, basic(app), JSON.stringify(SMS), { 'Content-Type': 'text/plain' })).status, 415);
  const big = { ...SMS, text: 'x'.repeat(300 * 1024) };
  assert.equal((await post(herald, basic(app), big)).status, 413);
});

test('401 for missing, wrong and forged credentials', async () => {
  const now = Math.floor(Date.now() / 1000);
  const hs256 = (() => {
    const input = unsignedJwt({ alg: 'HS256', typ: 'JWT' }, { application_id: app.application_id, iat: now, jti: 'x' });
    return `${input}.${createHmac('sha256', app.public_key).update(input).digest('base64url')}`;
  })();
  const cases = {
    none: undefined,
    'bad secret': basic(app, 'wrong-secret'),
    'unknown key': 'Basic ' + Buffer.from('deadbeef:secret').toString('base64'),
    'other app key': `Bearer ${jwt(app, { key: other.private_key })}`,
    expired: `Bearer ${jwt(app, { claims: { iat: now - 7200, exp: now - 3600 } })}`,
    'alg none': `Bearer ${unsignedJwt({ alg: 'none' }, { application_id: app.application_id, iat: now, jti: 'x' })}.`,
    'HS256 with public key': `Bearer ${hs256}`,
    'lifetime over 24h': `Bearer ${jwt(app, { claims: { exp: now + 86400 + 60 } })}`,
    garbage: 'Bearer abc',
  };
  for (const [name, auth] of Object.entries(cases)) {
    const r = await post(herald, auth, SMS);
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assert.equal(r.json.title, 'You did not provide correct credentials.');
  }
});

test("another application's message and workflow are 404, like missing ones", async () => {
  const r = await post(herald, basic(app), RCS_TO_SMS);
  for (const path of [`/v1/messages/${r.json.message_uuid}`, `/v1/workflows/${r.json.workflow_id}`]) {
    const res = await herald.fetch(path, { headers: { Authorization: basic(other) } });
    assert.equal(res.status, 404, path);
    assert.equal((await herald.fetch(path, { headers: { Authorization: basic(app) } })).status, 200);
  }
  const missing = await herald.fetch('/v1/messages/00000000-0000-4000-8000-000000000000', { headers: { Authorization: basic(other) } });
  assert.equal(missing.status, 404);
});

test('431 for oversize headers; the server keeps serving', async () => {
  const res = await herald.fetch('/healthz', { headers: { 'X-Big': 'x'.repeat(20 * 1024) } });
  assert.equal(res.status, 431);
  assert.equal((await herald.fetch('/healthz')).status, 200);
});
