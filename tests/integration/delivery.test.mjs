// The delivery engine end to end (issue 3, decision 0005): accepted messages go through the
// simulator connector, fail over as the Messages API does (contract §4) and every status event
// reaches the application as a signed webhook (contract §2.4, §6) and the message's history.
//
// One server for the file, configured through herald.toml with fast simulator timings and one
// simulator rule per test (each test uses its own recipient numbers). Signatures are checked by
// the receiver with the official @vonage/jwt verifySignature (tests/support/receiver.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { verifySignature } from '@vonage/jwt';
import { Herald, basic, bearer, assertAccepted, sleep } from '../support/herald.mjs';
import { Receiver, sha256hex } from '../support/receiver.mjs';
import {
  fastConfig, number, sms, rcs, whatsapp, messenger, viber, mms,
  assertStatusWebhookV1, assertStatusWebhookV01, assertHistory,
} from '../support/delivery.mjs';

const N = {
  plain: number(), long: number(), transitions: number(), rcsRejected: number(), chain: number(), ttl: number(), ttlOk: number(),
  late: number(), undeliverable: number(), provider: number(), retryOk: number(), allFail: number(),
  submitReject: number(), readThenDelivered: number(), rejectedAfterDelivered: number(),
  submittedRejected: number(), allRejected: number(), waNoRead: number(), skipped: number(),
  v01: number(), override: number(), admin: number(), history: number(), noUrl: number(),
  refusedAtSubmit: number(), twiceRejected: number(), appDeleted: number(), refusedChain: number(),
};

const RULES = [
  { channel: 'rcs', to: N.rcsRejected, events: [{ status: 'rejected', after_ms: 50, error: 1300, detail: 'Not part of the provider network' }] },
  { channel: 'rcs', to: N.chain, events: [{ status: 'rejected', after_ms: 40, error: 1300 }] },
  { channel: 'whatsapp', to: N.chain, events: [{ status: 'rejected', after_ms: 40, error: 1330 }] },
  // Submitted and (for this test) never delivered: the ttl runs out first.
  { channel: 'sms', to: N.ttl, events: [{ status: 'delivered', after_ms: 600_000 }] },
  { channel: 'rcs', to: N.late, events: [{ status: 'rejected', after_ms: 50, error: 1300 }, { status: 'delivered', after_ms: 300 }] },
  { channel: 'sms', to: N.late, events: [{ status: 'delivered', after_ms: 1500 }] },
  { channel: 'rcs', to: N.undeliverable, submit: ['fail'] },
  { connector: 'simulator', channel: 'sms', to: N.provider, submit: ['fail'] },
  { connector: 'simulator', channel: 'sms', to: N.retryOk, submit: ['fail', 'accept'] },
  { channel: 'sms', to: N.allFail, submit: ['fail'] },
  { channel: 'sms', to: N.submitReject, submit: ['reject'], error: 1170, detail: 'Invalid recipient' },
  { channel: 'whatsapp', to: N.readThenDelivered, events: [{ status: 'read', after_ms: 30 }, { status: 'delivered', after_ms: 120 }] },
  { channel: 'sms', to: N.rejectedAfterDelivered, events: [{ status: 'delivered', after_ms: 30 }, { status: 'rejected', after_ms: 120, error: 1330 }] },
  { channel: 'sms', to: N.submittedRejected, events: [{ status: 'rejected', after_ms: 40, error: 1330, detail: 'Delivery failed' }] },
  { channel: 'rcs', to: N.allRejected, events: [{ status: 'rejected', after_ms: 30, error: 1300 }] },
  { channel: 'sms', to: N.allRejected, events: [{ status: 'rejected', after_ms: 30, error: 1330 }] },
  { channel: 'whatsapp', to: N.waNoRead, events: [{ status: 'delivered', after_ms: 30 }] },
  { channel: 'sms', to: N.v01, events: [{ status: 'rejected', after_ms: 30, error: 1330 }] },
  { channel: 'rcs', to: N.refusedAtSubmit, submit: 'reject', error: 1300 },
  { channel: 'rcs', to: N.refusedChain, submit: 'reject', error: 1300 },
  { channel: 'whatsapp', to: N.refusedChain, submit: 'reject', error: 1330 },
  { connector: 'simulator', channel: 'sms', to: N.refusedChain, submit: ['fail', 'accept'] },
  { channel: 'rcs', to: N.twiceRejected, events: [{ status: 'rejected', after_ms: 40, error: 1300 }, { status: 'rejected', after_ms: 80, error: 1310 }] },
  { channel: 'rcs', to: N.appDeleted, events: [{ status: 'rejected', after_ms: 800, error: 1300 }] },
];

// One webhook in flight per receiver: Herald posts the webhooks of one message in order
// (decision 0005), but not those of different messages (a workflow's items), like Vonage
// (contract §9); with one at a time they arrive in the order the events happened, so these
// tests can assert the documented cross-item sequences as a receiver sees them.
// (webhooks.test.mjs checks the per-message order with 32 in flight; isolation.test.mjs and
// the crash test run with several in flight.)
const CONFIG = fastConfig({
  routes: { sms: ['simulator', 'sim-backup'] },
  connectors: { 'sim-backup': { type: 'simulator' } },
  webhooks: { per_endpoint_concurrency: 1 },
  rules: RULES,
});

let herald;
let rx;
let app;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({ config: CONFIG });
  app = await herald.createApp('delivery', { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

const accept = async (body, a = auth) => assertAccepted(await herald.post(a, body), { workflow: Array.isArray(body.failover) });
// Statuses of the message's history without Herald's own pre-send states.
const sentHistory = (m) => m.events.map((e) => e.status).filter((s) => s !== 'queued' && s !== 'waiting');
// All webhooks of a workflow, in arrival order.
const workflowEvents = (wid) => rx.requests.filter((r) => r.json?.workflow?.workflow_id === wid).map((r) => r.json);

test('a long SMS reports its segments in sms.count_total (GSM-7 160/153, UCS-2 70/67)', { timeout: 30_000 }, async () => {
  // '€' is a GSM-7 extension character (2 septets); 'ж' needs UCS-2.
  const cases = [['a'.repeat(160), '1'], ['a'.repeat(161), '2'], ['€'.repeat(80), '1'], ['€'.repeat(81), '2'],
    ['ж'.repeat(70), '1'], ['ж'.repeat(71), '2']];
  for (const [text, want] of cases) {
    const { message_uuid: uuid } = await accept(sms(N.long, { text }));
    const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
    const submitted = evs.find((e) => e.status === 'submitted');
    const delivered = evs.find((e) => e.status === 'delivered');
    assert.equal(submitted.sms?.count_total, want, `${text.length} x ${text[0]}: submitted`);
    assert.equal(delivered.sms?.count_total, want, `${text.length} x ${text[0]}: delivered`);
  }
});

test('SMS: submitted then delivered, two signed v1 webhooks in order, and the history', { timeout: 30_000 }, async () => {
  const to = N.plain;
  const { message_uuid: uuid } = await accept(sms(to, { client_ref: 'plain-1' }));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  await sleep(300); // SMS gets no read: nothing more arrives
  const reqs = rx.forMessage(uuid);
  assert.deepEqual(reqs.map((r) => r.json.status), ['submitted', 'delivered']);
  for (const r of reqs) {
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/status', 'sent to the application status URL');
    assert.match(r.headers['content-type'] ?? '', /^application\/json\b/);
    assert.ok(r.signature.ok, r.signature.reason);
    assertStatusWebhookV1(r.json, { message_uuid: uuid, to, from: 'Herald', channel: 'sms', client_ref: 'plain-1', workflow: null });
    // The official verifier really checks the key: a wrong secret fails.
    const token = r.headers.authorization.slice('Bearer '.length);
    assert.equal(verifySignature(token, `${app.signature_secret}x`), false);
    assert.equal(r.signature.claims.application_id, app.application_id);
    assert.equal(r.signature.claims.payload_hash, sha256hex(r.raw));
  }
  assert.notEqual(reqs[0].signature.claims.jti, reqs[1].signature.claims.jti, 'jti unique per webhook');

  const m = (await herald.getMessage(auth, uuid)).json;
  assert.equal(m.status, 'delivered');
  assertHistory(m);
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered']);
  // The webhooks' timestamps are the history's.
  const hist = Object.fromEntries(m.events.map((e) => [e.status, e.timestamp]));
  for (const r of reqs) {
    const d = Date.parse(hist[r.json.status]) - Date.parse(r.json.timestamp);
    assert.ok(d >= 0 && d < 1000, `${r.json.status}: webhook timestamp ${r.json.timestamp} is the history's ${hist[r.json.status]}`);
  }
  assert.equal(m.connector, 'simulator', 'GET names the connector that took it');
  assert.ok(m.events.every((e) => e.late === undefined), 'nothing late');
});

test('default outcomes: rcs, whatsapp, messenger, viber_service are read; mms is delivered', { timeout: 30_000 }, async () => {
  const cases = [
    [rcs(N.transitions), ['submitted', 'delivered', 'read']],
    [whatsapp(N.transitions), ['submitted', 'delivered', 'read']],
    [messenger(N.transitions), ['submitted', 'delivered', 'read']],
    [viber(N.transitions), ['submitted', 'delivered', 'read']],
    [mms(N.transitions), ['submitted', 'delivered']],
  ];
  const sent = [];
  for (const [body, expected] of cases) sent.push({ body, expected, uuid: (await accept(body)).message_uuid });
  for (const { body, expected, uuid } of sent) {
    await rx.waitForStatuses(uuid, expected, 10_000);
    const m = await herald.waitMessage(auth, uuid, expected.at(-1), 5000);
    assert.deepEqual(sentHistory(m), expected, `${body.channel} history`);
  }
  await sleep(300);
  for (const { body, expected, uuid } of sent) {
    const evs = rx.events(uuid);
    assert.deepEqual(evs.map((e) => e.status), expected, `${body.channel} webhooks`);
    for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, channel: body.channel, to: body.to, from: body.from, workflow: null });
    if (body.channel === 'rcs') for (const ev of evs) assert.equal(ev.usage, undefined, 'rcs has no usage');
  }
  rx.assertAllSigned(sent.flatMap(({ uuid }) => rx.forMessage(uuid)));
});

test('queued -> rejected at submit: error on the webhook and in the history, no submitted', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.submitReject, { client_ref: 'rej' }));
  await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  await sleep(200);
  const evs = rx.events(uuid);
  assert.deepEqual(evs.map((e) => e.status), ['rejected']);
  assertStatusWebhookV1(evs[0], { message_uuid: uuid, channel: 'sms', client_ref: 'rej', error: 1170, workflow: null });
  const m = await herald.waitMessage(auth, uuid, 'rejected', 5000);
  assertHistory(m, undefined, { errors: { rejected: 1170 } });
  assert.deepEqual(sentHistory(m), ['rejected']);
  assert.equal(m.events.find((e) => e.status === 'rejected').error.detail, 'Invalid recipient');
});

test('submitted -> rejected (provider receipt): error 1330 with the rule detail', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.submittedRejected));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 10_000);
  assert.deepEqual(evs.map((e) => e.status), ['submitted', 'rejected']);
  assertStatusWebhookV1(evs[1], { message_uuid: uuid, error: 1330 });
  assert.equal(evs[1].error.detail, 'Delivery failed');
  const m = await herald.waitMessage(auth, uuid, 'rejected', 5000);
  assertHistory(m, undefined, { errors: { rejected: 1330 } });
  assert.deepEqual(sentHistory(m), ['submitted', 'rejected']);
});

test('queued -> undeliverable: every connector of the channel failed after its retries (error 1100)', { timeout: 30_000 }, async () => {
  const t0 = Date.now();
  const { message_uuid: uuid } = await accept(sms(N.allFail));
  const evs = await rx.waitForStatuses(uuid, ['undeliverable'], 10_000);
  const took = Date.now() - t0;
  assert.deepEqual(evs.map((e) => e.status), ['undeliverable'], 'no submitted: no connector took it');
  assertStatusWebhookV1(evs[0], { message_uuid: uuid, error: 1100, workflow: null });
  const m = await herald.waitMessage(auth, uuid, 'undeliverable', 5000);
  assertHistory(m, undefined, { errors: { undeliverable: 1100 } });
  // 3 attempts on each of 2 connectors, backoff 50 then 100 ms between attempts: >= 2 x 150 ms.
  assert.ok(took >= 250, `undeliverable after ${took} ms: the retries with backoff happened`);
});

test('a retryable failure is retried on the same connector; delivered, never undeliverable', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.retryOk));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  await sleep(200);
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'delivered']);
  const m = await herald.waitMessage(auth, uuid, 'delivered', 5000);
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered']);
  assert.equal(m.connector, 'simulator', 'the second try on the same connector took it');
});

test('provider failover: the first sms connector always fails, the second (sim-backup) delivers', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.provider));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  await sleep(200);
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'delivered'], 'no undeliverable: the backup connector took it');
  const m = await herald.waitMessage(auth, uuid, 'delivered', 5000);
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered']);
  assert.equal(m.connector, 'sim-backup', 'GET shows the connector that took it');
});

test('read, then a late delivered: reported and recorded, the status stays read', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(whatsapp(N.readThenDelivered));
  await rx.waitForStatuses(uuid, ['submitted', 'read', 'delivered'], 10_000);
  const m = await herald.waitMessage(auth, uuid, (x) => x.events.some((e) => e.status === 'delivered'), 5000);
  assert.equal(m.status, 'read', 'a status never moves backward');
  assert.deepEqual(sentHistory(m), ['submitted', 'read', 'delivered']);
  assert.deepEqual(m.events.map((e) => e.late ?? false), [false, false, true], 'the delivered after read is marked late');
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'read', 'delivered']);
});

test('delivered, then rejected: the failure after success is reported only', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.rejectedAfterDelivered));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'rejected'], 10_000);
  assertStatusWebhookV1(evs.find((e) => e.status === 'rejected'), { message_uuid: uuid, error: 1330 });
  const m = await herald.waitMessage(auth, uuid, (x) => x.events.some((e) => e.status === 'rejected'), 5000);
  assert.equal(m.status, 'delivered', 'rejected after delivered changes nothing');
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered', 'rejected']);
  assert.equal(m.events.at(-1).late, true, 'the rejected after delivered is marked late');
});

test('whatsapp delivered but never read stays delivered', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(whatsapp(N.waNoRead));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  await sleep(500); // the default read would have come after 60 ms
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'delivered']);
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'delivered');
});

test('RCS rejected 1300 -> SMS: RCS submitted, RCS rejected, SMS submitted, SMS delivered, with workflow fields', { timeout: 30_000 }, async () => {
  const to = N.rcsRejected;
  const body = {
    ...rcs(to, { client_ref: 'wf-1' }),
    failover: [sms(to, { from: '447700900009', client_ref: 'wf-1' })],
  };
  const { message_uuid: primary, workflow_id: wid } = await accept(body);
  await rx.waitFor(() => workflowEvents(wid).some((e) => e.channel === 'sms' && e.status === 'delivered'), 10_000, 'SMS delivered');
  await sleep(300);
  const evs = workflowEvents(wid);
  assert.deepEqual(evs.map((e) => `${e.channel} ${e.status}`), ['rcs submitted', 'rcs rejected', 'sms submitted', 'sms delivered'],
    'the documented callback sequence (contract §4.3)');
  const [rcsSub, rcsRej, smsSub, smsDel] = evs;
  assert.equal(rcsSub.message_uuid, primary);
  assert.equal(rcsRej.message_uuid, primary);
  assert.equal(smsSub.message_uuid, smsDel.message_uuid);
  assert.notEqual(smsSub.message_uuid, primary, 'the failover item has its own message_uuid');
  for (const ev of [rcsSub, rcsRej]) {
    assertStatusWebhookV1(ev, { channel: 'rcs', to, from: 'HeraldRCS', client_ref: 'wf-1', workflow: { workflow_id: wid, items_number: 1, items_total: 2 } });
  }
  for (const ev of [smsSub, smsDel]) {
    assertStatusWebhookV1(ev, { channel: 'sms', to, from: '447700900009', client_ref: 'wf-1', workflow: { workflow_id: wid, items_number: 2, items_total: 2 } });
  }
  assertStatusWebhookV1(rcsRej, { error: 1300 });
  assert.equal(rcsRej.error.detail, 'Not part of the provider network');
  rx.assertAllSigned(rx.requests.filter((r) => r.json?.workflow?.workflow_id === wid));

  const wf = await herald.waitWorkflow(auth, wid, 'completed', 5000);
  assert.deepEqual(wf.items.map((i) => [i.items_number, i.channel, i.status]), [['1', 'rcs', 'rejected'], ['2', 'sms', 'delivered']]);
  assert.equal(wf.items[1].message_uuid, smsSub.message_uuid);
  assertHistory(wf.items[0], undefined, { errors: { rejected: 1300 } });
  assert.deepEqual(sentHistory(wf.items[0]), ['submitted', 'rejected']);
  assert.deepEqual(sentHistory(wf.items[1]), ['submitted', 'delivered']);
  // Each item is a message of its own.
  const item2 = (await herald.getMessage(auth, smsSub.message_uuid)).json;
  assert.equal(item2.status, 'delivered');
  assert.deepEqual(item2.workflow, { workflow_id: wid, items_number: '2', items_total: '2' });
  // The RCS was rejected before the SMS was submitted.
  const rejectedAt = Date.parse(wf.items[0].events.find((e) => e.status === 'rejected').timestamp);
  const smsSubmittedAt = Date.parse(wf.items[1].events.find((e) => e.status === 'submitted').timestamp);
  assert.ok(smsSubmittedAt >= rejectedAt, 'failover item sent after the rejection');
});

test('3 items RCS -> WhatsApp -> SMS, the first two rejected: six callbacks, items 1..3 of 3', { timeout: 30_000 }, async () => {
  const to = N.chain;
  const { workflow_id: wid } = await accept({ ...rcs(to), failover: [whatsapp(to), sms(to)] });
  await rx.waitFor(() => workflowEvents(wid).some((e) => e.channel === 'sms' && e.status === 'delivered'), 10_000, 'SMS delivered');
  await sleep(300);
  const evs = workflowEvents(wid);
  assert.deepEqual(evs.map((e) => `${e.workflow.items_number} ${e.channel} ${e.status}`), [
    '1 rcs submitted', '1 rcs rejected', '2 whatsapp submitted', '2 whatsapp rejected', '3 sms submitted', '3 sms delivered',
  ]);
  for (const ev of evs) {
    const n = { rcs: 1, whatsapp: 2, sms: 3 }[ev.channel];
    assertStatusWebhookV1(ev, { to, workflow: { workflow_id: wid, items_number: n, items_total: 3 } });
  }
  assert.equal(new Set(evs.map((e) => e.message_uuid)).size, 3, 'three message_uuids');
  assertStatusWebhookV1(evs[1], { error: 1300 });
  assertStatusWebhookV1(evs[3], { error: 1330 });
  const wf = await herald.waitWorkflow(auth, wid, 'completed', 5000);
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'rejected', 'delivered']);
});

test('every item rejected: the workflow fails', { timeout: 30_000 }, async () => {
  const to = N.allRejected;
  const { workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to)] });
  const wf = await herald.waitWorkflow(auth, wid, 'failed', 10_000);
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'rejected']);
  await rx.waitFor(() => workflowEvents(wid).length >= 4, 5000, 'four callbacks');
  assert.deepEqual(workflowEvents(wid).map((e) => `${e.channel} ${e.status}`), ['rcs submitted', 'rcs rejected', 'sms submitted', 'sms rejected']);
});

test('delivered first item: the failover item is never sent (skipped), the workflow completes', { timeout: 30_000 }, async () => {
  const to = N.skipped;
  const { message_uuid: primary, workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to)] });
  const wf = await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  await rx.waitForStatuses(primary, ['submitted', 'delivered', 'read'], 5000);
  await sleep(300);
  const wf2 = (await herald.getWorkflow(auth, wid)).json;
  assert.equal(wf2.items[0].status, 'read');
  assert.equal(wf2.items[1].status, 'skipped');
  assert.deepEqual(sentHistory(wf2.items[1]), [], 'the SMS was never sent');
  assert.equal(rx.forMessage(wf.items[1].message_uuid).length, 0, 'no webhook for the skipped item');
  assert.deepEqual(workflowEvents(wid).map((e) => e.status), ['submitted', 'delivered', 'read']);
});

test('late receipt: RCS rejected at 50 ms then delivered at 300 ms is reported, the workflow stays on the SMS', { timeout: 30_000 }, async () => {
  const to = N.late;
  const { message_uuid: primary, workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to)] });
  // The late RCS delivered (300 ms) arrives while the SMS (delivered at 1500 ms) is in flight.
  await rx.waitForStatuses(primary, ['submitted', 'rejected', 'delivered'], 10_000);
  const mid = (await herald.getWorkflow(auth, wid)).json;
  assert.equal(mid.status, 'active', 'the late delivered does not complete the workflow');
  assert.equal(mid.items[1].status, 'submitted', 'the workflow stays on item 2');
  assert.deepEqual(mid.items[0].events.map((e) => [e.status, e.late ?? false]), [['submitted', false], ['rejected', false], ['delivered', true]],
    'the late receipt is in the history, marked late');
  assert.equal(mid.items[0].status, 'rejected', 'rejected is final: the late delivered is recorded only');

  const wf = await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  await rx.waitForStatuses(wf.items[1].message_uuid, ['submitted', 'delivered'], 5000);
  await sleep(300);
  const evs = workflowEvents(wid);
  assert.deepEqual(evs.map((e) => `${e.channel} ${e.status}`), ['rcs submitted', 'rcs rejected', 'sms submitted', 'rcs delivered', 'sms delivered']);
  const late = evs[3];
  assertStatusWebhookV1(late, { message_uuid: primary, workflow: { workflow_id: wid, items_number: 1, items_total: 2 } });
  assert.equal(evs.filter((e) => e.channel === 'sms' && e.status === 'submitted').length, 1, 'one failover, never a second');
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'delivered']);
});

test('RCS refused at submit (docs/simulator.md example): RCS rejected, SMS submitted, SMS delivered', { timeout: 30_000 }, async () => {
  const to = N.refusedAtSubmit;
  const { workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to)] });
  const wf = await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  await rx.waitFor(() => workflowEvents(wid).length >= 3, 5000, 'three callbacks');
  await sleep(200);
  assert.deepEqual(workflowEvents(wid).map((e) => `${e.channel} ${e.status}`), ['rcs rejected', 'sms submitted', 'sms delivered']);
  assertStatusWebhookV1(workflowEvents(wid)[0], { error: 1300 });
  assert.equal(workflowEvents(wid)[0].error.detail, 'Not part of the provider network', 'the default detail is the code title');
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'delivered']);
});

// Rejections at submit fail over inside one send job (decision 0008): item 2 is sent before
// item 1's rejection is committed, and the hops commit together. What a client sees must not
// change: every hop reported in order, each with its own time, and a retryable failure on the
// way still retried on its connector.
test('refused at submit twice, then a retryable SMS: one chain, every hop reported in order, the SMS retried and delivered', { timeout: 30_000 }, async () => {
  const to = N.refusedChain;
  const { workflow_id: wid } = await accept({ ...rcs(to), failover: [whatsapp(to), sms(to)] });
  const wf = await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  await rx.waitFor(() => workflowEvents(wid).length >= 4, 5000, 'four callbacks');
  await sleep(200);
  const evs = workflowEvents(wid);
  assert.deepEqual(evs.map((e) => `${e.workflow.items_number} ${e.channel} ${e.status}`), [
    '1 rcs rejected', '2 whatsapp rejected', '3 sms submitted', '3 sms delivered',
  ]);
  assertStatusWebhookV1(evs[0], { error: 1300 });
  assertStatusWebhookV1(evs[1], { error: 1330 });
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'rejected', 'delivered']);
  const [m1, m2, m3] = await Promise.all(wf.items.map((i) => herald.waitMessage(auth, i.message_uuid, i.status, 5000)));
  assertHistory(m1, undefined, { errors: { rejected: 1300 } });
  assertHistory(m2, undefined, { errors: { rejected: 1330 } });
  assert.deepEqual(sentHistory(m3), ['submitted', 'delivered'], 'the SMS: no undeliverable, its retry took it');
  assert.equal(m3.connector, 'simulator', 'retried on the same connector');
  const at = (m, s) => Date.parse(m.events.find((e) => e.status === s).timestamp);
  assert.ok(at(m1, 'rejected') <= at(m2, 'rejected'), 'hop 1 reported before hop 2');
  assert.ok(at(m2, 'rejected') <= at(m3, 'submitted'), 'hop 2 reported before the SMS went out');
});

test('a second rejection of the same item is reported late and never fails over twice', { timeout: 30_000 }, async () => {
  const to = N.twiceRejected;
  const { message_uuid: primary, workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to), whatsapp(to)] });
  await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  await rx.waitFor(() => rx.statuses(primary).filter((x) => x === 'rejected').length >= 2, 5000, 'both rejections reported');
  await sleep(300);
  const wf = (await herald.getWorkflow(auth, wid)).json;
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'delivered', 'skipped'], 'the WhatsApp item is never sent');
  assert.deepEqual(wf.items[0].events.map((e) => [e.status, e.error?.code, e.late ?? false]),
    [['submitted', undefined, false], ['rejected', 1300, false], ['rejected', 1310, true]]);
  assert.equal(workflowEvents(wid).filter((e) => e.channel === 'sms' && e.status === 'submitted').length, 1);
  assert.equal(rx.forMessage(wf.items[2].message_uuid).length, 0);
});

test('deleting the application mid-workflow: its pending work is dropped, the server carries on', { timeout: 30_000 }, async () => {
  const doomed = await herald.createApp('doomed', { statusUrl: rx.url('/doomed') });
  rx.addSecret(doomed);
  const to = N.appDeleted;
  const { message_uuid: primary } = await accept({ ...rcs(to), failover: [sms(to)] }, basic(doomed));
  await rx.waitForStatuses(primary, ['submitted'], 5000);
  const del = await herald.admin(`/applications/${doomed.application_id}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  await sleep(1500); // past the scheduled rejection (800 ms) and its failover
  assert.deepEqual(rx.statuses(primary), ['submitted'], 'nothing more is reported for a deleted application');
  assert.equal(rx.requests.filter((r) => r.path === '/doomed' && r.json?.channel === 'sms').length, 0, 'no failover item sent');
  // The server is fine.
  const { message_uuid: uuid } = await accept(sms(N.plain));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
});

test('undeliverable (submit: fail on every attempt) fails over to the next item by default', { timeout: 30_000 }, async () => {
  const to = N.undeliverable;
  const { message_uuid: primary, workflow_id: wid } = await accept({ ...rcs(to), failover: [sms(to)] });
  const wf = await herald.waitWorkflow(auth, wid, 'completed', 10_000);
  assert.deepEqual(wf.items.map((i) => i.status), ['undeliverable', 'delivered']);
  await rx.waitFor(() => workflowEvents(wid).length >= 3, 5000, 'three callbacks');
  await sleep(200);
  assert.deepEqual(workflowEvents(wid).map((e) => `${e.channel} ${e.status}`), ['rcs undeliverable', 'sms submitted', 'sms delivered']);
  assertStatusWebhookV1(rx.events(primary)[0], { error: 1100, workflow: { workflow_id: wid, items_number: 1, items_total: 2 } });
  assertHistory(wf.items[0], undefined, { errors: { undeliverable: 1100 } });
});

test('ttl: an SMS not delivered within its ttl (20 s) is rejected 1360 and fails over; a delivered one is not', { timeout: 60_000 }, async () => {
  const to = N.ttl;
  const t0 = Date.now();
  const { message_uuid: primary, workflow_id: wid } = await accept({ ...sms(to, { ttl: 20 }), failover: [whatsapp(to)] });
  const { message_uuid: ok } = await accept(sms(N.ttlOk, { ttl: 20 }));
  await rx.waitForStatuses(primary, ['submitted'], 5000);
  await sleep(1000);
  assert.equal((await herald.getWorkflow(auth, wid)).json.items[1].status, 'waiting', 'nothing happens before the ttl');
  await herald.waitWorkflow(auth, wid, 'completed', 35_000);
  const wf = await herald.waitWorkflow(auth, wid, (w) => w.items[1].status === 'read', 5000, 'whatsapp item read');
  const rejectedAfter = Date.parse(wf.items[0].events.find((e) => e.status === 'rejected').timestamp)
    - Date.parse(wf.items[0].events.find((e) => e.status === 'submitted').timestamp);
  assert.ok(rejectedAfter >= 19_000 && rejectedAfter <= 25_000, `rejected ${rejectedAfter} ms after submitted (ttl 20 s)`);
  assert.ok(Date.now() - t0 >= 19_000);
  assertHistory(wf.items[0], undefined, { errors: { rejected: 1360 } });
  assert.deepEqual(wf.items.map((i) => i.status), ['rejected', 'read']);
  await rx.waitForStatuses(wf.items[1].message_uuid, ['submitted', 'delivered', 'read'], 5000);
  assertStatusWebhookV1(rx.events(primary).find((e) => e.status === 'rejected'), { error: 1360, workflow: { workflow_id: wid, items_number: 1, items_total: 2 } });
  // The SMS that was delivered in time is untouched by its ttl.
  await sleep(500);
  const m = (await herald.getMessage(auth, ok)).json;
  assert.equal(m.status, 'delivered');
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered']);
  assert.deepEqual(rx.statuses(ok), ['submitted', 'delivered']);
});

test('webhook_version v0.1: the v0.1 shape (to/from objects, error {code, reason}), still signed', { timeout: 30_000 }, async () => {
  const to = N.v01;
  const { message_uuid: uuid } = await accept(sms(to, { webhook_version: 'v0.1', client_ref: 'old' }));
  await rx.waitFor(() => rx.forMessage(uuid).length >= 2, 10_000, 'two v0.1 webhooks');
  await sleep(200);
  const reqs = rx.forMessage(uuid);
  assert.deepEqual(reqs.map((r) => r.json.status), ['submitted', 'rejected']);
  assertStatusWebhookV01(reqs[0].json, { uuid, type: 'sms', to, from: 'Herald', status: 'submitted', client_ref: 'old' });
  assertStatusWebhookV01(reqs[1].json, { uuid, type: 'sms', to, from: 'Herald', status: 'rejected', error: 1330, client_ref: 'old' });
  rx.assertAllSigned(reqs);
});

test('webhook_url on the message wins over the application status URL', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(sms(N.override, { webhook_url: rx.url('/override?x=1') }));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  const reqs = rx.forMessage(uuid);
  assert.ok(reqs.every((r) => r.url === '/override?x=1'), `all to the message's webhook_url: ${reqs.map((r) => r.url)}`);
  rx.assertAllSigned(reqs);
});

test('an application without a status URL gets no webhook; the history is kept; a new status URL applies', { timeout: 30_000 }, async () => {
  const quiet = await herald.createApp('quiet');
  rx.addSecret(quiet);
  const { message_uuid: uuid } = await accept(sms(N.noUrl), basic(quiet));
  await herald.waitMessage(basic(quiet), uuid, 'delivered', 10_000);
  assert.equal(rx.forMessage(uuid).length, 0);
  const patched = await herald.admin(`/applications/${quiet.application_id}`, { method: 'PATCH', body: { status_url: rx.url('/quiet') } });
  assert.equal(patched.status, 200, patched.text);
  // Applications are cached ≤ 2 s (docs/api.md).
  await sleep(2500);
  const { message_uuid: second } = await accept(sms(N.noUrl), basic(quiet));
  const evs = await rx.waitForStatuses(second, ['submitted', 'delivered'], 10_000);
  assert.ok(evs.every((e) => e._req.path === '/quiet'));
  rx.assertAllSigned(rx.forMessage(second));
});

test('GET history with JWT and Basic alike; another application sees 404', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid, workflow_id: wid } = await accept({ ...rcs(N.history), failover: [sms(N.history)] });
  const m = await herald.waitMessage(bearer(app), uuid, 'read', 10_000);
  assertHistory(m);
  assert.deepEqual(sentHistory(m), ['submitted', 'delivered', 'read']);
  assert.deepEqual((await herald.getMessage(auth, uuid)).json.events, m.events);
  const wf = await herald.waitWorkflow(bearer(app), wid, 'completed', 5000);
  assert.deepEqual(wf.items[0].events, m.events, 'the workflow shows each item with its history');
  const other = await herald.createApp('other');
  assert.equal((await herald.getMessage(basic(other), uuid)).status, 404);
  assert.equal((await herald.getWorkflow(basic(other), wid)).status, 404);
});

test('simulator rules through the admin API: GET shows them, PUT replaces them at run time', { timeout: 30_000 }, async () => {
  assert.equal((await herald.admin('/simulator/rules', { token: null })).status, 401);
  const got = await herald.admin('/simulator/rules');
  assert.equal(got.status, 200, got.text);
  assert.ok(Array.isArray(got.json.rules), got.text);
  assert.ok(got.json.rules.some((r) => r.to === N.rcsRejected && r.channel === 'rcs'), 'the rules from herald.toml');
  const original = got.json;
  try {
    const rules = { ...original, rules: [...original.rules, { channel: 'sms', to: N.admin, events: [{ status: 'rejected', after_ms: 20, error: 1240 }] }] };
    const put = await herald.admin('/simulator/rules', { method: 'PUT', body: rules });
    assert.ok([200, 204].includes(put.status), `PUT -> ${put.status} ${put.text}`);
    const again = await herald.admin('/simulator/rules');
    assert.ok(again.json.rules.some((r) => r.to === N.admin), 'GET shows the new rule');
    const { message_uuid: uuid } = await accept(sms(N.admin));
    const evs = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 10_000);
    assertStatusWebhookV1(evs.find((e) => e.status === 'rejected'), { error: 1240 });
    // A malformed rule set is refused and changes nothing.
    const bad = await herald.admin('/simulator/rules', { method: 'PUT', body: { rules: [{ channel: 'sms', submit: ['explode'] }] } });
    assert.ok(bad.status >= 400 && bad.status < 500, `bad rules -> ${bad.status}`);
    assert.ok((await herald.admin('/simulator/rules')).json.rules.some((r) => r.to === N.admin));
  } finally {
    await herald.admin('/simulator/rules', { method: 'PUT', body: original });
  }
});
