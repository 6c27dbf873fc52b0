// Inbound messages (contract §7) from the simulator — injected through the admin API or as a
// scripted reply to an outbound message — go to the application's inbound URL, signed; and
// PATCH /v1/messages/{uuid} (contract §8): revoke an outbound RCS message not yet delivered,
// mark an inbound WhatsApp/RCS message read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, bearer, assertAccepted, sleep, MESSAGE_UUID_RE, ISO_TIME_RE } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number, sms, rcs, whatsapp } from '../support/delivery.mjs';

const N = { reply: number(), slowRcs: number(), deliveredRcs: number(), person: number(), waOut: number(), smsOut: number() };
const RULES = [
  { channel: 'sms', to: N.reply, events: [{ status: 'delivered', after_ms: 30 }, { status: 'inbound', after_ms: 80, text: 'STOP' }] },
  { channel: 'rcs', to: N.slowRcs, events: [{ status: 'delivered', after_ms: 2500 }, { status: 'read', after_ms: 2600 }] },
  { channel: 'rcs', to: N.deliveredRcs, events: [{ status: 'delivered', after_ms: 30 }] },
];

let herald;
let rx;
let app;
let other;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({ config: fastConfig({ rules: RULES }) });
  app = await herald.createApp('inbound', { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
  other = await herald.createApp('other', { statusUrl: rx.url('/other-status'), inboundUrl: rx.url('/other-inbound') });
  rx.addSecret(app).addSecret(other);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

async function inject(body) {
  const res = await herald.admin('/simulator/inbound', { method: 'POST', body });
  assert.equal(res.status, 202, `inject inbound -> ${res.status} ${res.text}`);
  assert.match(res.json?.message_uuid ?? '', MESSAGE_UUID_RE);
  return res.json.message_uuid;
}

test('an injected inbound SMS reaches the inbound URL, signed, in the v1 inbound shape', { timeout: 30_000 }, async () => {
  const from = N.person;
  const uuid = await inject({ application_id: app.application_id, channel: 'sms', from, to: '447700900456', text: 'Hi there' });
  const req = await rx.waitFor((reqs) => reqs.find((r) => r.json?.message_uuid === uuid), 10_000, 'inbound webhook');
  assert.equal(req.path, '/inbound');
  assert.equal(req.method, 'POST');
  assert.ok(req.signature.ok, req.signature.reason);
  const m = req.json;
  assert.equal(m.channel, 'sms');
  assert.equal(m.from, from);
  assert.equal(m.to, '447700900456');
  assert.equal(m.text, 'Hi there');
  assert.match(m.timestamp ?? '', ISO_TIME_RE);
  assert.equal(m.status, undefined, 'an inbound message is not a status webhook');
  if (m.message_type !== undefined) assert.equal(m.message_type, 'text');
  assert.equal(rx.forMessage(uuid).length, 1, 'one webhook, to the inbound URL only');
});

test('an inbound WhatsApp message (context_status present) goes to its own application only', { timeout: 30_000 }, async () => {
  const uuid = await inject({ application_id: other.application_id, channel: 'whatsapp', from: N.person, to: '447700900002', text: 'hello' });
  const req = await rx.waitFor((reqs) => reqs.find((r) => r.json?.message_uuid === uuid), 10_000, 'inbound webhook');
  assert.equal(req.path, '/other-inbound');
  assert.ok(req.signature.ok, req.signature.reason);
  assert.equal(req.signature.claims.application_id, other.application_id);
  assert.equal(req.json.channel, 'whatsapp');
  assert.equal(req.json.text, 'hello');
  assert.ok(['none', 'available', 'unavailable'].includes(req.json.context_status), `context_status ${req.json.context_status}`);
});

test('admin inbound: needs the admin token; an unknown application is refused', { timeout: 30_000 }, async () => {
  const body = { application_id: app.application_id, channel: 'sms', from: N.person, to: '447700900456', text: 'x' };
  assert.equal((await herald.admin('/simulator/inbound', { method: 'POST', body, token: null })).status, 401);
  const unknown = await herald.admin('/simulator/inbound', { method: 'POST', body: { ...body, application_id: '00000000-0000-4000-8000-000000000000' } });
  assert.ok([404, 422].includes(unknown.status), `unknown application -> ${unknown.status}`);
});

test('a scripted reply to an outbound SMS arrives as inbound: from the recipient, to our sender', { timeout: 30_000 }, async () => {
  const uuid = assertAccepted(await herald.post(basic(app), sms(N.reply, { from: '447700900777' }))).message_uuid;
  const req = await rx.waitFor((reqs) => reqs.find((r) => r.path === '/inbound' && r.json?.from === N.reply && r.json?.text === 'STOP'), 10_000, 'the reply');
  assert.ok(req.signature.ok, req.signature.reason);
  assert.equal(req.json.channel, 'sms');
  assert.equal(req.json.to, '447700900777');
  assert.notEqual(req.json.message_uuid, uuid, 'the reply is a message of its own');
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 5000);
});

test('PATCH revoked: an RCS message not yet delivered is revoked, no failover, no later receipt', { timeout: 30_000 }, async () => {
  const to = N.slowRcs;
  const { message_uuid: uuid, workflow_id: wid } = assertAccepted(
    await herald.post(bearer(app), { ...rcs(to), failover: [sms(to)] }), { workflow: true });
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const res = await herald.patchMessage(bearer(app), uuid, { status: 'revoked' });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.text, '', '202 without a body');
  const m = await herald.waitMessage(bearer(app), uuid, 'revoked', 5000);
  assert.ok(m.events.some((e) => e.status === 'revoked'), 'revoked is in the history');
  await sleep(3000); // past the rule's delivered (2.5 s) and read (2.6 s)
  const after = (await herald.getMessage(bearer(app), uuid)).json;
  assert.equal(after.status, 'revoked');
  assert.ok(!after.events.some((e) => ['delivered', 'read'].includes(e.status)), 'the simulator honours the revoke');
  assert.ok(!rx.statuses(uuid).includes('delivered'), 'no delivered webhook after the revoke');
  const wf = (await herald.getWorkflow(bearer(app), wid)).json;
  assert.equal(wf.status, 'revoked', 'the workflow is revoked (docs/api.md)');
  assert.equal(wf.items[1].status, 'skipped', 'no failover after a revoke');
  assert.equal(rx.forMessage(wf.items[1].message_uuid).length, 0, 'the SMS was never sent');
  // Revoking twice: no longer revocable.
  assert.equal((await herald.patchMessage(bearer(app), uuid, { status: 'revoked' })).status, 422);
});

test('PATCH revoked on a delivered RCS message is 422', { timeout: 30_000 }, async () => {
  const uuid = assertAccepted(await herald.post(bearer(app), rcs(N.deliveredRcs))).message_uuid;
  await herald.waitMessage(bearer(app), uuid, 'delivered', 10_000);
  const res = await herald.patchMessage(bearer(app), uuid, { status: 'revoked' });
  assert.equal(res.status, 422, res.text);
  assert.equal((await herald.getMessage(bearer(app), uuid)).json.status, 'delivered');
});

test('PATCH read: an inbound WhatsApp or RCS message 202; an outbound WhatsApp 422', { timeout: 30_000 }, async () => {
  const wa = await inject({ application_id: app.application_id, channel: 'whatsapp', from: N.person, to: '447700900002', text: 'yo' });
  const r1 = await herald.patchMessage(bearer(app), wa, { status: 'read' });
  assert.equal(r1.status, 202, r1.text);
  const r2 = await herald.patchMessage(bearer(app), wa, { status: 'read', replying_indicator: { show: true, type: 'text' } });
  assert.equal(r2.status, 202, `read again, with the typing indicator: ${r2.text}`);
  const rc = await inject({ application_id: app.application_id, channel: 'rcs', from: N.person, to: 'HeraldRCS', text: 'yo' });
  assert.equal((await herald.patchMessage(bearer(app), rc, { status: 'read' })).status, 202);

  const out = assertAccepted(await herald.post(bearer(app), whatsapp(N.waOut))).message_uuid;
  assert.equal((await herald.patchMessage(bearer(app), out, { status: 'read' })).status, 422, 'outbound WhatsApp status cannot be changed');
  // Revoke is for outbound RCS only.
  assert.equal((await herald.patchMessage(bearer(app), wa, { status: 'revoked' })).status, 422, 'revoke an inbound message');
  const smsOut = assertAccepted(await herald.post(bearer(app), sms(N.smsOut))).message_uuid;
  assert.equal((await herald.patchMessage(bearer(app), smsOut, { status: 'revoked' })).status, 422, 'revoke an SMS');
  assert.equal((await herald.patchMessage(bearer(app), wa, { status: 'bogus' })).status, 422, 'unknown status');
});

test('PATCH: JWT only (Basic 401), unknown or another application\'s message 404', { timeout: 30_000 }, async () => {
  const wa = await inject({ application_id: app.application_id, channel: 'whatsapp', from: N.person, to: '447700900002', text: 'z' });
  assert.equal((await herald.patchMessage(basic(app), wa, { status: 'read' })).status, 401, 'Basic is not accepted');
  assert.equal((await herald.patchMessage(undefined, wa, { status: 'read' })).status, 401);
  assert.equal((await herald.patchMessage(bearer(app), '00000000-0000-4000-8000-000000000000', { status: 'read' })).status, 404);
  assert.equal((await herald.patchMessage(bearer(other), wa, { status: 'read' })).status, 404, "another application's message");
});
