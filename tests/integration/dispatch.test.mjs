// Dispatch API v0.1 end to end (issue 4, contract §10–§11, docs/dispatch.md): POST
// /v0.1/dispatch validated as Vonage does, items sent in order, "fail over unless
// condition_status within expiry_time", rejection moving on at once, exactly one final report,
// late receipts reported but never re-routed, and expiries that survive kill -9.
//
// Time is compressed by [engine] wait_scale = 0.01: an expiry_time of 100 s waits 1 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, bearer, sleep, ISO_TIME_RE, MESSAGE_UUID_RE } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number } from '../support/delivery.mjs';

const SCALE = 0.01;
const N = {
  before: number(), after: number(), reject: number(), lastRejected: number(), lastDelivered: number(),
  crash: number(), string: number(), viber: number(),
};

const RULES = [
  // Read 300 ms before the 1 s expiry of a 100 s expiry_time: completes.
  { channel: 'messenger', to: N.before, events: [{ status: 'delivered', after_ms: 100 }, { status: 'read', after_ms: 700 }] },
  // Read 400 ms after it: too late, the SMS goes out; the read is reported, not acted on.
  { channel: 'messenger', to: N.after, events: [{ status: 'delivered', after_ms: 100 }, { status: 'read', after_ms: 1400 }] },
  { channel: 'sms', to: N.after, events: [{ status: 'delivered', after_ms: 100 }] },
  { channel: 'whatsapp', to: N.reject, submit: ['reject'], error: 1330 },
  { channel: 'whatsapp', to: N.lastRejected, events: [{ status: 'rejected', after_ms: 50, error: 1300 }] },
  { channel: 'sms', to: N.lastRejected, submit: ['reject'], error: 1170 },
  // Delivered, never read: the 3 s wait (300 s expiry_time) is pending when the server is killed.
  { channel: 'whatsapp', to: N.crash, events: [{ status: 'delivered', after_ms: 50 }] },
];

let herald;
let rx;
let app;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({ config: fastConfig({ engine: { wait_scale: SCALE }, rules: RULES }) });
  app = await herald.createApp('dispatch', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

const item = (type, to, text, failover) => {
  const byId = type === 'messenger';
  const from = { type, [byId ? 'id' : 'number']: type === 'sms' ? '447700900000' : byId ? 'herald-page' : '447700900009' };
  if (type === 'viber_service_msg') { from.id = 'HeraldViber'; delete from.number; }
  const o = { from, to: { type, [byId ? 'id' : 'number']: to }, message: { content: { type: 'text', text } } };
  if (failover) o.failover = failover;
  return o;
};
const dispatch = (workflow) => ({ template: 'failover', workflow });
const postDispatch = (body, a = auth, headers = {}) => herald.request('/v0.1/dispatch', { method: 'POST', auth: a, body, headers });
const reports = (id) => rx.requests.filter((r) => r.json?.dispatch_uuid === id && r.json?.template === 'failover');
const getDispatch = (id) => herald.request(`/v0.1/dispatch/${id}`, { auth });
const waitDispatch = (id, status, ms = 10_000) => herald.waitGet(auth, `/v0.1/dispatch/${id}`, (d) => d.status === status, ms, `dispatch ${id} ${status}`);

async function accepted(body, a) {
  const res = await postDispatch(body, a);
  assert.equal(res.status, 202, res.text);
  assert.deepEqual(Object.keys(res.json), ['dispatch_uuid']);
  assert.match(res.json.dispatch_uuid, /^[A-Za-z0-9]+$/);
  return res.json.dispatch_uuid;
}

test('invalid dispatches get the documented 400 naming every bad field; nothing is stored', async () => {
  const before = await herald.sql('SELECT count(*) FROM workflow');
  const cases = [
    [{ workflow: [item('sms', N.string, 'x')] }, ['template']],
    [{ template: 'broadcast', workflow: [item('sms', N.string, 'x')] }, ['template']],
    [dispatch([]), ['workflow']],
    [dispatch([item('sms', N.string, 'a'), item('sms', N.string, 'b')]), ['workflow[0].failover']],
    [dispatch([item('sms', N.string, 'a', { expiry_time: 60, condition_status: 'read' })]), ['workflow[0].failover']],
    [dispatch([item('sms', N.string, 'a', { expiry_time: 14, condition_status: 'read' }), item('sms', N.string, 'b')]),
      ['workflow[0].failover.expiry_time']],
    [dispatch([item('sms', N.string, 'a', { expiry_time: 86401, condition_status: 'seen' }), item('sms', N.string, 'b')]),
      ['workflow[0].failover.expiry_time', 'workflow[0].failover.condition_status']],
    [dispatch([item('sms', N.string, 'a', { expiry_time: '6x', condition_status: 'delivered' }), item('telegram', N.string, 'b')]),
      ['workflow[0].failover.expiry_time', 'workflow[1].to.type', 'workflow[1].from.type']],
    [dispatch([item('messenger', 'psid-1', '', { expiry_time: 60, condition_status: 'read' }), item('sms', 'not-a-number', 'b')]),
      ['workflow[0].message.content.text', 'workflow[1].to.number']],
  ];
  for (const [body, names] of cases) {
    const res = await postDispatch(body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status} ${res.text}`);
    assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
    assert.equal(res.json.type, 'https://www.nexmo.com/messages/Errors#InvalidParams');
    assert.equal(res.json.detail, 'Your request parameters did not validate.');
    assert.match(res.json.instance, /^[0-9a-f]{32}$/);
    const got = res.json.invalid_parameters.map((p) => p.name);
    for (const n of names) assert.ok(got.includes(n), `${JSON.stringify(body)}: ${n} named in ${JSON.stringify(res.json.invalid_parameters)}`);
    for (const p of res.json.invalid_parameters) assert.equal(typeof p.reason, 'string');
  }
  assert.deepEqual(await herald.sql('SELECT count(*) FROM workflow'), before, 'nothing stored');
  const unauth = await postDispatch(dispatch([item('sms', N.string, 'x')]), 'Basic bm9wZTpub3Bl');
  assert.equal(unauth.status, 401);
});

test('expiry_time as a numeric string (dispatch-user-fallback case-3) is accepted; JWT auth works', async () => {
  const id = await accepted(dispatch([
    item('viber_service_msg', N.string, 'hi', { expiry_time: '600', condition_status: 'read' }),
    item('sms', N.string, 'hi'),
  ]), bearer(app));
  const d = await waitDispatch(id, 'completed');
  assert.equal(d.workflow[0].expiry_time, 600);
  assert.equal(d.workflow[0].channel, 'viber_service');
  assert.equal(d.workflow[1].status, 'skipped', 'read on Viber: the SMS is never sent');
});

test('condition reached just before the expiry: completed, the next item never sent, one report', { timeout: 30_000 }, async () => {
  const id = await accepted(dispatch([
    item('messenger', N.before, 'first', { expiry_time: 100, condition_status: 'read' }),
    item('sms', N.before, 'second'),
  ]));
  const d = await waitDispatch(id, 'completed');
  const [first, second] = d.workflow;
  assert.equal(first.status, 'read');
  assert.equal(second.status, 'skipped');
  await sleep(1500); // past the expiry: nothing more may happen
  assert.equal((await getDispatch(id)).json.workflow[1].status, 'skipped', 'the expiry did not fire after success');
  assert.equal(rx.forMessage(second.message_uuid).length, 0, 'no webhook for the unsent item');
  const reps = reports(id);
  assert.equal(reps.length, 1, 'exactly one final report');
  const r = reps[0].json;
  assert.equal(r.status, 'completed');
  assert.match(r.timestamp, ISO_TIME_RE);
  assert.ok(reps[0].signature.ok, reps[0].signature.reason);
  assert.deepEqual(r._links.messages.map((m) => [m.message_uuid, m.channel, m.status]), [[first.message_uuid, 'messenger', 'read']]);
  assert.equal(r._links.messages[0].href, `v0.1/messages/${first.message_uuid}`);
  // Per-message webhooks are v0.1 and linked to the dispatch both ways (spec and observed).
  const statuses = rx.events(first.message_uuid);
  assert.deepEqual(statuses.map((e) => e.status), ['submitted', 'delivered', 'read']);
  for (const ev of statuses) {
    assert.deepEqual(ev.to, { type: 'messenger', id: N.before });
    assert.equal(ev._links.dispatch.dispatch_uuid, id);
    assert.equal(ev._links.workflow.dispatch_uuid, id);
    assert.equal(ev._links.dispatch.href, `v0.1/dispatch/${id}`);
    assert.equal(ev.channel, undefined, 'v0.1 shape');
  }
  // The report follows the status that ended the dispatch.
  const readSeq = rx.forMessage(first.message_uuid).find((q) => q.json.status === 'read').seq;
  assert.ok(reps[0].seq > readSeq, 'report after the read webhook');
});

test('condition reached just after the expiry: the next item goes out; the late read is reported, not re-routed', { timeout: 30_000 }, async () => {
  const id = await accepted(dispatch([
    item('messenger', N.after, 'first', { expiry_time: 100, condition_status: 'read' }),
    item('sms', N.after, 'second'),
  ]));
  const d = await waitDispatch(id, 'completed');
  const [first, second] = d.workflow;
  assert.equal(second.status, 'delivered');
  assert.equal(first.outcome, 'expired');
  assert.ok(first.events.some((e) => e.status === 'expired'), 'the expiry is in the history');
  // The read arrives at ~1.4 s, after the switch.
  const evs = await rx.waitForStatuses(first.message_uuid, ['read'], 10_000);
  assert.equal(evs.at(-1)._links.dispatch.dispatch_uuid, id, 'the late read is still linked to the dispatch');
  await sleep(300);
  const reps = reports(id);
  assert.equal(reps.length, 1, 'exactly one final report, the late read did not make another');
  assert.equal(reps[0].json.status, 'completed');
  const byUuid = Object.fromEntries(reps[0].json._links.messages.map((m) => [m.message_uuid, m.status]));
  assert.equal(byUuid[first.message_uuid], 'delivered', 'status at report time');
  assert.equal(byUuid[second.message_uuid], 'delivered');
  const after = (await getDispatch(id)).json;
  assert.equal(after.status, 'completed');
  assert.equal(after.workflow[0].status, 'read', 'the message itself moved on');
  // Expiry measured from the submit: the SMS went out no earlier than 1 s after it.
  const submitted = Date.parse(first.events.find((e) => e.status === 'submitted').timestamp);
  const sent = Date.parse(second.events.find((e) => e.status === 'submitted').timestamp);
  assert.ok(sent - submitted >= 990, `never early: switched ${sent - submitted} ms after submit (expiry 1000 ms)`);
});

test('a rejection moves on at once, without waiting for the expiry', { timeout: 30_000 }, async () => {
  const t0 = Date.now();
  const id = await accepted(dispatch([
    item('whatsapp', N.reject, 'first', { expiry_time: 3000, condition_status: 'read' }),
    item('sms', N.reject, 'second'),
  ]));
  const d = await waitDispatch(id, 'completed', 5000);
  assert.ok(Date.now() - t0 < 5000, 'did not wait 30 s');
  assert.equal(d.workflow[0].status, 'rejected');
  assert.equal(d.workflow[1].status, 'delivered');
  const rej = rx.events(d.workflow[0].message_uuid).find((e) => e.status === 'rejected');
  assert.equal(rej.error.code, 1330);
  // The report is POSTed after the SMS's own webhooks: the GET can show `completed` first.
  await rx.waitForBody((b) => b.dispatch_uuid === id && b.template === 'failover', 5000, 'final report');
  await sleep(200);
  assert.equal(reports(id).length, 1);
});

test('the last item decides: rejected -> final report "error"', { timeout: 30_000 }, async () => {
  const id = await accepted(dispatch([
    item('whatsapp', N.lastRejected, 'first', { expiry_time: 3000, condition_status: 'delivered' }),
    item('sms', N.lastRejected, 'second'),
  ]));
  const d = await waitDispatch(id, 'error');
  assert.deepEqual(d.workflow.map((m) => m.status), ['rejected', 'rejected']);
  await rx.waitForBody((b) => b.dispatch_uuid === id && b.template === 'failover', 5000, 'final report');
  await sleep(200);
  const reps = reports(id);
  assert.equal(reps.length, 1);
  assert.equal(reps[0].json.status, 'error');
  assert.deepEqual(reps[0].json._links.messages.map((m) => m.status), ['rejected', 'rejected']);
});

test('GET /v0.1/dispatch/{id} is the owner\'s only', async () => {
  const id = await accepted(dispatch([item('sms', N.lastDelivered, 'only')]));
  const other = await herald.createApp('other');
  assert.equal((await herald.request(`/v0.1/dispatch/${id}`, { auth: basic(other) })).status, 404);
  assert.equal((await herald.request('/v1/workflows/nope', { auth })).status, 404);
  const d = await waitDispatch(id, 'completed');
  assert.match(d.workflow[0].message_uuid, MESSAGE_UUID_RE);
});

test('kill -9 while an expiry is pending: it fires after the restart, never early', { timeout: 60_000 }, async () => {
  const id = await accepted(dispatch([
    item('whatsapp', N.crash, 'first', { expiry_time: 300, condition_status: 'read' }),
    item('sms', N.crash, 'second'),
  ]));
  const d0 = await herald.waitGet(auth, `/v0.1/dispatch/${id}`, (d) => d.workflow[0].status === 'delivered', 10_000, 'first delivered');
  const submittedAt = Date.parse(d0.workflow[0].events.find((e) => e.status === 'submitted').timestamp);
  await herald.restart(); // kill -9, start on the same data dir
  const d = await waitDispatch(id, 'completed', 20_000);
  const sent = Date.parse(d.workflow[1].events.find((e) => e.status === 'submitted').timestamp);
  assert.ok(sent - submittedAt >= 2990, `the 3 s expiry fired after ${sent - submittedAt} ms (never early)`);
  assert.equal(d.workflow[0].outcome, 'expired');
  await rx.waitForBody((b) => b.dispatch_uuid === id && b.template === 'failover', 10_000, 'final report after restart');
  await sleep(300);
  assert.equal(reports(id).length, 1, 'one report across the crash');
});
