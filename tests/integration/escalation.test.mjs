// Escalations end to end (issue 4, docs/escalations.md): Herald walks an on-call list across
// people and channels until someone reads or acknowledges, durably, and reports the outcome.
//
// Time is compressed by [engine] wait_scale = 0.01: an expiry_time of 100 s waits 1 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, bearer, sleep, ISO_TIME_RE } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number } from '../support/delivery.mjs';

const SCALE = 0.01;
const P = {
  tony: number(), michael: number(), ackTony: number(), replyTony: number(), nobody: number(),
  cancel: number(), crash: number(), lateAck: number(),
};

const RULES = [
  // Tony: Messenger delivered but never read; SMS delivered (SMS never reports read).
  { channel: 'messenger', to: P.tony, events: [{ status: 'delivered', after_ms: 50 }] },
  { channel: 'sms', to: P.tony, events: [{ status: 'delivered', after_ms: 50 }] },
  // Michael reads on Viber.
  { channel: 'viber_service', to: P.michael, events: [{ status: 'delivered', after_ms: 50 }, { status: 'read', after_ms: 300 }] },
  { channel: 'messenger', to: P.ackTony, events: [{ status: 'delivered', after_ms: 50 }] },
  { channel: 'sms', to: P.replyTony, events: [{ status: 'delivered', after_ms: 50 }, { status: 'inbound', after_ms: 400, text: 'ack - on it' }] },
  { channel: 'sms', to: P.nobody, events: [{ status: 'delivered', after_ms: 30 }] },
  { channel: 'whatsapp', to: P.nobody, submit: ['reject'], error: 1330 },
  { channel: 'messenger', to: P.cancel, events: [{ status: 'delivered', after_ms: 30 }] },
  { channel: 'messenger', to: P.crash, events: [{ status: 'delivered', after_ms: 30 }] },
  { channel: 'sms', to: P.crash, events: [{ status: 'delivered', after_ms: 30 }] },
  { channel: 'sms', to: P.lateAck, events: [{ status: 'delivered', after_ms: 30 }] },
];

let herald;
let rx;
let app;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({ config: fastConfig({ engine: { wait_scale: SCALE }, rules: RULES }) });
  app = await herald.createApp('escalation', { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

const step = (channel, to, extra = {}) => ({
  channel, to,
  from: { sms: 'Herald', messenger: 'herald-page', viber_service: 'HeraldViber', whatsapp: '447700900009' }[channel],
  ...extra,
});
const post = (body, a = auth, headers = {}) => herald.request('/v1/escalations', { method: 'POST', auth: a, body, headers });
const get = (id) => herald.request(`/v1/escalations/${id}`, { auth });
const waitStatus = (id, status, ms = 15_000) => herald.waitGet(auth, `/v1/escalations/${id}`, (e) => e.status === status, ms, `escalation ${id} ${status}`);
const reports = (id) => rx.requests.filter((r) => r.json?.escalation_id === id);
const steps = (e) => e.people.flatMap((p) => p.steps.map((s) => ({ person: p.name, ...s })));

async function start(body, a) {
  const res = await post(body, a);
  assert.equal(res.status, 202, res.text);
  assert.match(res.json.escalation_id, /^[A-Za-z0-9]+$/);
  return res.json.escalation_id;
}

test('Tony does not read on Messenger or SMS; Herald escalates to Michael, who reads on Viber', { timeout: 30_000 }, async () => {
  const id = await start({
    text: 'Server is about to melt!',
    client_ref: 'incident-1',
    people: [
      { name: 'Tony', steps: [step('messenger', P.tony, { condition_status: 'read', expiry_time: 100 }), step('sms', P.tony, { expiry_time: 100 })] },
      { name: 'Michael', steps: [step('viber_service', P.michael, { expiry_time: 300 }), step('sms', P.michael)] },
    ],
  });
  // Live progress while Tony's first step waits.
  const live = await herald.waitGet(auth, `/v1/escalations/${id}`, (e) => e.current?.status === 'delivered', 5000, 'Tony delivered');
  assert.equal(live.status, 'active');
  assert.equal(live.current.person, 'Tony');
  assert.equal(live.current.channel, 'messenger');
  assert.match(live.current.expires_at, ISO_TIME_RE);
  assert.ok(live.current.time_left_seconds >= 0 && live.current.time_left_seconds <= 1, `time left ${live.current.time_left_seconds}`);

  const e = await waitStatus(id, 'completed');
  assert.deepEqual(e.outcome && { how: e.outcome.how, person: e.outcome.person, channel: e.outcome.channel },
    { how: 'read', person: 'Michael', channel: 'viber_service' });
  assert.match(e.outcome.timestamp, ISO_TIME_RE);
  const s = steps(e);
  assert.deepEqual(s.map((x) => [x.person, x.channel, x.status]), [
    ['Tony', 'messenger', 'delivered'], ['Tony', 'sms', 'delivered'],
    ['Michael', 'viber_service', 'read'], ['Michael', 'sms', 'skipped'],
  ]);
  assert.equal(s[0].outcome, 'expired');
  assert.equal(s[1].outcome, 'expired', "a person's last step waits too");
  assert.equal(e.current, null);
  // Tony's SMS was sent only after his Messenger step expired (1 s after its submit).
  const at = (st, status) => Date.parse(st.events.find((x) => x.status === status).timestamp);
  assert.ok(at(s[1], 'submitted') - at(s[0], 'submitted') >= 990, 'never early');
  assert.ok(at(s[2], 'submitted') - at(s[1], 'submitted') >= 990, 'Michael only after Tony\'s last step waited');

  await rx.waitForBody((b) => b.escalation_id === id, 5000, 'final report');
  await sleep(300);
  const reps = reports(id);
  assert.equal(reps.length, 1, 'one final report');
  assert.ok(reps[0].signature.ok, reps[0].signature.reason);
  const r = reps[0].json;
  assert.equal(r.status, 'completed');
  assert.equal(r.client_ref, 'incident-1');
  assert.deepEqual({ how: r.outcome.how, person: r.outcome.person, channel: r.outcome.channel }, { how: 'read', person: 'Michael', channel: 'viber_service' });
  assert.deepEqual(r.steps.map((x) => [x.person, x.channel, x.status]), [['Tony', 'messenger', 'delivered'], ['Tony', 'sms', 'delivered'], ['Michael', 'viber_service', 'read']]);
  // Every step reported its statuses like any message, with the workflow object.
  const viber = rx.events(s[2].message_uuid);
  assert.deepEqual(viber.map((x) => x.status), ['submitted', 'delivered', 'read']);
  assert.equal(viber[0].workflow.workflow_id, id);
  assert.equal(viber[0].workflow.items_number, '3');
  assert.equal(viber[0].client_ref, 'incident-1');
});

test('an acknowledgement mid-chain stops every further send at once; a second one gets 409', { timeout: 30_000 }, async () => {
  const id = await start({
    text: 'Disk full',
    people: [
      { name: 'Tony', steps: [step('messenger', P.ackTony, { expiry_time: 200 }), step('sms', P.ackTony)] },
      { name: 'Michael', steps: [step('sms', P.michael)] },
    ],
  }, bearer(app));
  await herald.waitGet(auth, `/v1/escalations/${id}`, (e) => e.current?.status === 'delivered', 5000, 'first step delivered');
  const res = await herald.request(`/v1/escalations/${id}/acknowledge`, { method: 'POST', auth, body: { by: 'Tony' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'completed');
  assert.deepEqual({ how: res.json.outcome.how, person: res.json.outcome.person, channel: res.json.outcome.channel },
    { how: 'acknowledged', person: 'Tony', channel: 'messenger' });
  assert.deepEqual(steps(res.json).map((x) => x.status), ['delivered', 'skipped', 'skipped']);
  await sleep(2500); // past the 2 s wait: nothing may be sent
  const e = (await get(id)).json;
  assert.deepEqual(steps(e).map((x) => x.status), ['delivered', 'skipped', 'skipped'], 'no send after the acknowledgement');
  for (const x of steps(e).slice(1)) assert.equal(rx.forMessage(x.message_uuid).length, 0, 'no webhook for unsent steps');
  const again = await herald.request(`/v1/escalations/${id}/acknowledge`, { method: 'POST', auth });
  assert.equal(again.status, 409);
  assert.match(again.json.detail, /completed/);
  assert.equal(reports(id).length, 1);
  assert.equal(reports(id)[0].json.outcome.how, 'acknowledged');
});

test('a reply starting with the keyword acknowledges (case-insensitive)', { timeout: 30_000 }, async () => {
  const id = await start({
    text: 'Reply ACK',
    people: [{ name: 'Tony', steps: [step('sms', P.replyTony, { expiry_time: 500 })] }, { name: 'Michael', steps: [step('sms', P.michael)] }],
  });
  const e = await waitStatus(id, 'completed', 10_000);
  assert.equal(e.outcome.how, 'acknowledged');
  assert.equal(e.outcome.person, 'Tony');
  assert.equal(e.outcome.channel, 'sms');
  assert.deepEqual(steps(e).map((x) => x.status), ['delivered', 'skipped']);
  // The reply is also an ordinary inbound message.
  await rx.waitForBody((b) => b.text === 'ack - on it', 5000, 'inbound webhook');
});

test('nobody reads: every step of every round runs, with the pause between rounds; final report "failed"', { timeout: 30_000 }, async () => {
  const id = await start({
    text: 'Nobody home',
    repeat: 1,
    repeat_pause: 50, // 0.5 s scaled
    people: [{ name: 'Ann', steps: [step('whatsapp', P.nobody), step('sms', P.nobody, { expiry_time: 30 })] }],
  });
  const e = await waitStatus(id, 'failed', 20_000);
  const s = steps(e);
  assert.deepEqual(s.map((x) => [x.round, x.channel, x.status]),
    [[1, 'whatsapp', 'rejected'], [1, 'sms', 'delivered'], [2, 'whatsapp', 'rejected'], [2, 'sms', 'delivered']]);
  const at = (st, status) => Date.parse(st.events.find((x) => x.status === status).timestamp);
  const round2 = Date.parse(s[2].events.find((x) => x.status === 'rejected').timestamp);
  assert.ok(round2 - at(s[1], 'submitted') >= 300 + 490, 'round 2 after the sms wait (0.3 s) and the pause (0.5 s)');
  assert.equal(e.outcome, null);
  await rx.waitForBody((b) => b.escalation_id === id, 5000, 'final report');
  const r = reports(id)[0].json;
  assert.equal(r.status, 'failed');
  assert.equal(r.outcome, null);
  assert.equal(r.steps.length, 4);
});

test('DELETE cancels: nothing more is sent; 409 afterwards; a reply after the end acknowledges nothing', { timeout: 30_000 }, async () => {
  const id = await start({ text: 'x', people: [{ name: 'C', steps: [step('messenger', P.cancel, { expiry_time: 300 }), step('sms', P.cancel)] }] });
  await herald.waitGet(auth, `/v1/escalations/${id}`, (e) => e.current?.status === 'delivered', 5000, 'delivered');
  const res = await herald.request(`/v1/escalations/${id}`, { method: 'DELETE', auth });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'cancelled');
  assert.equal((await herald.request(`/v1/escalations/${id}`, { method: 'DELETE', auth })).status, 409);
  assert.equal((await herald.request(`/v1/escalations/${id}/acknowledge`, { method: 'POST', auth })).status, 409);
  await rx.waitForBody((b) => b.escalation_id === id, 5000, 'final report');
  assert.equal(reports(id)[0].json.status, 'cancelled');

  // An acknowledgement by reply after the end is stored as inbound and changes nothing.
  const done = await start({ text: 'y', people: [{ name: 'L', steps: [step('sms', P.lateAck, { condition_status: 'delivered' })] }] });
  await waitStatus(done, 'completed');
  const inj = await herald.admin('/simulator/inbound', { method: 'POST', body: { application_id: app.application_id, channel: 'sms', from: P.lateAck, to: 'Herald', text: 'ACK' } });
  assert.ok([200, 201, 202].includes(inj.status), inj.text);
  await rx.waitForBody((b) => b.text === 'ACK' && b.from === P.lateAck, 5000, 'inbound');
  const after = (await get(done)).json;
  assert.equal(after.outcome.how, 'delivered', 'the outcome is unchanged');
  assert.equal(reports(done).length, 1);
});

test('invalid escalations: 422 naming every bad field; unknown id 404; another tenant 404', async () => {
  const res = await post({
    people: [
      { name: '', steps: [step('sms', 'nope'), { channel: 'telegram', to: '1', from: 'x' }] },
      { name: 'B', steps: [] },
    ],
    repeat: 11, ack_keyword: 'two words',
  });
  assert.equal(res.status, 422, res.text);
  const names = res.json.invalid_parameters.map((p) => p.name);
  for (const n of ['text', 'people[0].name', 'people[0].steps[0].to', 'people[0].steps[1].channel', 'people[1].steps', 'repeat', 'ack_keyword']) {
    assert.ok(names.includes(n), `${n} in ${JSON.stringify(names)}`);
  }
  assert.equal((await get('nope')).status, 404);
  const id = await start({ text: 'z', people: [{ name: 'T', steps: [step('sms', P.lateAck, { condition_status: 'delivered' })] }] });
  const other = await herald.createApp('other-escalation');
  assert.equal((await herald.request(`/v1/escalations/${id}`, { auth: basic(other) })).status, 404);
  assert.equal((await herald.request(`/v1/escalations/${id}/acknowledge`, { method: 'POST', auth: basic(other) })).status, 404);
  // A Messages workflow is not an escalation.
  assert.equal((await herald.request('/v1/escalations/x/y', { auth })).status, 404);
});

test('kill -9 mid-escalation: the pending wait fires after restart and the chain goes on', { timeout: 60_000 }, async () => {
  const id = await start({ text: 'crash', people: [{ name: 'K', steps: [step('messenger', P.crash, { expiry_time: 200 }), step('sms', P.crash, { condition_status: 'delivered' })] }] });
  await herald.waitGet(auth, `/v1/escalations/${id}`, (e) => e.current?.status === 'delivered', 5000, 'first delivered');
  await herald.restart();
  const e = await waitStatus(id, 'completed', 20_000);
  assert.deepEqual(steps(e).map((x) => x.status), ['delivered', 'delivered']);
  assert.equal(e.outcome.channel, 'sms');
  assert.equal(e.outcome.how, 'delivered');
});
