// POST /v1/messages accepted with each kind of credentials; GET /v1/messages and
// GET /v1/workflows show what was accepted, failover items in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tokenGenerate } from '@vonage/jwt';
import {
  Herald, basic, bearer, jwtFor, assertAccepted, SMS, WHATSAPP, RCS_TO_SMS, MESSAGE_UUID_RE, ISO_TIME_RE,
} from '../support/herald.mjs';
import { PARKED_CONFIG } from '../support/delivery.mjs';

let herald;
let app;
before(async () => {
  // Messages stay queued: these tests look at what the accept path stored (delivery.test.mjs
  // covers what happens next).
  herald = await Herald.start({ config: PARKED_CONFIG });
  app = await herald.createApp('accept');
});
after(() => herald?.close({ graceful: true }));

async function expectMessage(auth, uuid, expected) {
  const res = await herald.getMessage(auth, uuid);
  assert.equal(res.status, 200, res.text);
  const m = res.json;
  assert.equal(m.message_uuid, uuid);
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(m[k], v, `message.${k}`);
  assert.match(m.created_at, ISO_TIME_RE);
  assert.match(m.updated_at, ISO_TIME_RE);
  return m;
}

test('SMS with Basic auth: 202 {message_uuid}, then GET shows it queued', { timeout: 30_000 }, async () => {
  const auth = basic(app);
  const { message_uuid: uuid } = assertAccepted(await herald.post(auth, { ...SMS, client_ref: 'basic-1' }));
  const m = await expectMessage(auth, uuid, {
    channel: 'sms', message_type: 'text', to: SMS.to, from: SMS.from, client_ref: 'basic-1', status: 'queued',
  });
  assert.equal(m.workflow, undefined, 'no workflow object without failover');
});

test('SMS with a hand-made RS256 JWT: 202, and GET works with the same token kind', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = assertAccepted(await herald.post(bearer(app), SMS));
  await expectMessage(bearer(app), uuid, { channel: 'sms', status: 'queued' });
  // Basic and JWT are the same application: each sees the other's messages.
  await expectMessage(basic(app), uuid, { channel: 'sms' });
});

test('a token from the official @vonage/jwt tokenGenerate is accepted', { timeout: 30_000 }, async () => {
  const token = tokenGenerate(app.application_id, app.private_key);
  assertAccepted(await herald.post(`Bearer ${token}`, SMS));
  const long = tokenGenerate(app.application_id, app.private_key, { ttl: 3600 });
  assertAccepted(await herald.post(`Bearer ${long}`, SMS));
});

test('JWT variants real clients send are accepted', { timeout: 30_000 }, async () => {
  const now = Math.floor(Date.now() / 1000);
  const variants = {
    'PyJWT style, exp = iat + 3600, no typ': { claims: { exp: now + 3600 }, header: { alg: 'RS256' } },
    'no exp claim': { omit: ['exp'] },
    'nbf = now': { claims: { nbf: now } },
    'iat 20 s in the future (clock skew)': { claims: { iat: now + 20 } },
  };
  for (const [name, options] of Object.entries(variants)) {
    const res = await herald.post(`Bearer ${jwtFor(app, options)}`, SMS);
    assert.equal(res.status, 202, `${name}: ${res.text}`);
  }
});

test('Content-Type with parameters (charset) is still JSON', { timeout: 30_000 }, async () => {
  assertAccepted(await herald.post(basic(app), SMS, { 'Content-Type': 'application/json; charset=utf-8' }));
});

test('WhatsApp text is accepted and stored with its channel', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = assertAccepted(await herald.post(basic(app), WHATSAPP));
  await expectMessage(basic(app), uuid, { channel: 'whatsapp', from: WHATSAPP.from, status: 'queued' });
});

test('RCS with failover to SMS: workflow_id, two items in order with distinct uuids', { timeout: 30_000 }, async () => {
  const auth = basic(app);
  const { message_uuid: primary, workflow_id: wid } = assertAccepted(await herald.post(auth, RCS_TO_SMS), { workflow: true });

  const wf = await herald.getWorkflow(auth, wid);
  assert.equal(wf.status, 200, wf.text);
  assert.equal(wf.json.workflow_id, wid);
  assert.equal(wf.json.items_total, '2');
  assert.match(wf.json.created_at, ISO_TIME_RE);
  const items = wf.json.items;
  assert.equal(items.length, 2);
  assert.deepEqual(items.map((i) => i.channel), ['rcs', 'sms']);
  assert.deepEqual(items.map((i) => i.status), ['queued', 'waiting']);
  assert.equal(items[0].message_uuid, primary);
  assert.match(items[1].message_uuid, MESSAGE_UUID_RE);
  assert.notEqual(items[1].message_uuid, primary);

  await expectMessage(auth, primary, {
    channel: 'rcs', from: 'HeraldRCS', status: 'queued',
    workflow: { workflow_id: wid, items_number: '1', items_total: '2' },
  });
  await expectMessage(auth, items[1].message_uuid, {
    channel: 'sms', from: 'Herald', status: 'waiting',
    workflow: { workflow_id: wid, items_number: '2', items_total: '2' },
  });
});

test('a three-step chain RCS -> WhatsApp -> SMS keeps its order', { timeout: 30_000 }, async () => {
  const body = { ...RCS_TO_SMS, failover: [WHATSAPP, SMS] };
  const { workflow_id: wid } = assertAccepted(await herald.post(bearer(app), body), { workflow: true });
  const wf = await herald.getWorkflow(bearer(app), wid);
  assert.equal(wf.status, 200, wf.text);
  assert.equal(wf.json.items_total, '3');
  assert.deepEqual(wf.json.items.map((i) => i.channel), ['rcs', 'whatsapp', 'sms']);
  assert.deepEqual(wf.json.items.map((i) => i.status), ['queued', 'waiting', 'waiting']);
  assert.equal(new Set(wf.json.items.map((i) => i.message_uuid)).size, 3);
});

test('every accept gets a new uuid', { timeout: 30_000 }, async () => {
  const results = await Promise.all(Array.from({ length: 10 }, () => herald.post(basic(app), SMS)));
  const uuids = new Set(results.map((r) => assertAccepted(r).message_uuid));
  assert.equal(uuids.size, 10);
});
