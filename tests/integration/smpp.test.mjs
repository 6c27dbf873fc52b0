// The SMPP 3.4 connector (issue 5 item 1, docs/connectors/smpp.md) against a real SMPP peer:
// an SMS centre built on the `smpp` npm package (tests/support/smsc.mjs) on 127.0.0.1.
//
// The real herald runs with [connectors.smsc] type = "smpp" and [routes] sms = ["smsc"]; an
// application's status and inbound webhooks go to the receiver. Each test uses its own
// recipient numbers so the SMSC's per-number rules apply to its messages only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted, runCli, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { startConnectorHarness } from '../support/connectors.mjs';
import { fastConfig, number, sms, assertStatusWebhookV1, assertHistory } from '../support/delivery.mjs';
import { Smsc } from '../support/smsc.mjs';

function smppConfig(smsc, extra = {}) {
  return fastConfig({
    routes: { sms: ['smsc'] },
    connectors: {
      smsc: {
        type: 'smpp', host: '127.0.0.1', port: smsc.port, system_id: 'herald', password: 'pw123',
        system_type: 'VMA', window: 64, enquire_link_s: 1, reconnect_max_s: 1, throttle_backoff_ms: 100,
        response_timeout_ms: 2000, ...extra,
      },
    },
  });
}

let smsc;
let harness;
let rx;
let herald;
let auth;
const cleanup = [];
before(async () => {
  smsc = await Smsc.start({ systemId: 'herald', password: 'pw123' });
  harness = await startConnectorHarness({ fake: smsc, config: smppConfig(smsc), appName: 'smpp' });
  ({ herald, rx, auth } = harness);
  await smsc.waitFor(() => smsc.bound().length === 1, 10_000, 'herald bound');
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
  await harness?.close();
});

async function send(body) {
  return assertAccepted(await herald.post(auth, body)).message_uuid;
}
const acceptedFor = (to) => smsc.accepted.filter((s) => s.destination_addr === to);
const submitsFor = (to) => smsc.submits.filter((s) => s.destination_addr === to);

test('binds as a transceiver with system_id, password and system_type', async () => {
  const b = smsc.binds.find((x) => x.system_id === 'herald');
  assert.deepEqual(b, { command: 'bind_transceiver', system_id: 'herald', password: 'pw123', system_type: 'VMA' });
});

test('an SMS is submitted and delivered: submitted then delivered webhooks with its uuid', { timeout: 30_000 }, async () => {
  const to = number();
  const uuid = await send(sms(to, { text: 'Hello over SMPP' }));
  const events = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  assert.deepEqual(events.map((e) => e.status), ['submitted', 'delivered']);
  for (const e of events) assertStatusWebhookV1(e, { message_uuid: uuid, to, from: 'Herald', channel: 'sms' });
  const [s] = acceptedFor(to);
  assert.equal(s.message, 'Hello over SMPP');
  assert.equal(s.data_coding, 0, 'GSM-7 (SMSC default alphabet)');
  assert.equal(s.esm_class & 0x40, 0, 'no UDH on a single part');
  assert.equal(s.registered_delivery, 1, 'a final receipt is requested');
  assert.deepEqual([s.source_addr, s.source_addr_ton, s.source_addr_npi], ['Herald', 5, 0], 'alphanumeric sender');
  assert.deepEqual([s.destination_addr, s.dest_addr_ton, s.dest_addr_npi], [to, 1, 1]);
  const m = await herald.waitMessage(auth, uuid, (x) => x.status === 'delivered', 5000);
  assertHistory(m, ['submitted', 'delivered']);
  assert.equal(submitsFor(to).length, 1, 'submitted once');
  // The receipt was answered with deliver_sm_resp ESME_ROK after Herald recorded it.
  await smsc.waitFor(() => smsc.deliverResps.some((r) => r.id === s.message_id && r.command_status === 0), 5000, 'deliver_sm_resp');
});

test('a long GSM-7 text arrives as concatenated parts with one consistent UDH; one delivered webhook', { timeout: 30_000 }, async () => {
  const to = number();
  const text = 'Long message over SMPP. '.repeat(17) + '{€}'; // 408 + 3 chars, 413 septets: 3 parts
  const uuid = await send(sms(to, { text }));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  const parts = acceptedFor(to);
  assert.equal(parts.length, 3, 'three parts');
  const ref = parts[0].concat.ref;
  for (const p of parts) {
    assert.equal(p.esm_class & 0x40, 0x40, 'UDHI set');
    assert.equal(p.data_coding, 0);
    assert.equal(p.concat.ref, ref, 'same reference on every part');
    assert.equal(p.concat.total, 3);
  }
  assert.deepEqual(parts.map((p) => p.concat.seq).sort(), [1, 2, 3]);
  const joined = [...parts].sort((a, b) => a.concat.seq - b.concat.seq).map((p) => p.message).join('');
  assert.equal(joined, text, 'the parts join to the text');
  // Every part got its receipt; the message has one delivered (later parts add nothing).
  await smsc.waitFor(() => parts.every((p) => smsc.deliverResps.some((r) => r.id === p.message_id)), 5000, 'all part receipts answered');
  await sleep(200);
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'delivered']);
  const m = await herald.getMessage(auth, uuid);
  assert.equal(m.json.status, 'delivered');
});

test('unicode text goes as UCS-2 (data_coding 8), long unicode in 67-character parts; encoding_type is honoured', { timeout: 30_000 }, async () => {
  const to = number();
  const uuid = await send(sms(to, { text: 'Привет, мир! 😀' }));
  await rx.waitForStatuses(uuid, ['delivered'], 10_000);
  const [u] = acceptedFor(to);
  assert.equal(u.data_coding, 8);
  assert.equal(u.message, 'Привет, мир! 😀');

  const toLong = number();
  const long = 'ж'.repeat(140);
  const uuid2 = await send(sms(toLong, { text: long }));
  await rx.waitForStatuses(uuid2, ['delivered'], 10_000);
  const parts = acceptedFor(toLong);
  assert.equal(parts.length, 3, '67 + 67 + 6');
  assert.ok(parts.every((p) => p.data_coding === 8 && p.concat?.total === 3));
  assert.equal([...parts].sort((a, b) => a.concat.seq - b.concat.seq).map((p) => p.message).join(''), long);

  const toForced = number();
  const uuid3 = await send(sms(toForced, { text: 'plain', sms: { encoding_type: 'unicode' } }));
  await rx.waitForStatuses(uuid3, ['delivered'], 10_000);
  assert.equal(acceptedFor(toForced)[0].data_coding, 8, 'encoding_type unicode forces UCS-2');

  const toText = number();
  const uuid4 = await send(sms(toText, { text: 'Привет!', sms: { encoding_type: 'text' } }));
  await rx.waitForStatuses(uuid4, ['delivered'], 10_000);
  assert.equal(acceptedFor(toText)[0].data_coding, 0, 'encoding_type text forces GSM-7');
  assert.equal(acceptedFor(toText)[0].message, '??????!');
});

test('throttled submits (ESME_RTHROTTLED 0x58, ESME_RMSGQFUL 0x14) are resubmitted and delivered', { timeout: 30_000 }, async () => {
  const a = number();
  const b = number();
  smsc.throttle(3);
  const ua = await send(sms(a, { text: 'throttled a' }));
  const ub = await send(sms(b, { text: 'throttled b' }));
  await rx.waitForStatuses(ua, ['submitted', 'delivered'], 15_000);
  await rx.waitForStatuses(ub, ['submitted', 'delivered'], 15_000);
  const throttled = [...submitsFor(a), ...submitsFor(b)].filter((s) => s.status === 0x58);
  assert.equal(throttled.length, 3, 'three throttled answers were seen');
  assert.equal(acceptedFor(a).length, 1, 'a accepted once');
  assert.equal(acceptedFor(b).length, 1, 'b accepted once');
  assert.deepEqual(rx.statuses(ua), ['submitted', 'delivered'], 'throttling is invisible to the application');

  const c = number();
  smsc.throttle(2, 0x14);
  const uc = await send(sms(c, { text: 'queue full' }));
  await rx.waitForStatuses(uc, ['delivered'], 15_000);
  assert.equal(submitsFor(c).filter((s) => s.status === 0x14).length, 2);
  assert.equal(acceptedFor(c).length, 1);
});

test('receipts: UNDELIV -> undeliverable, REJECTD -> rejected 1282, EXPIRED -> rejected 1360', { timeout: 30_000 }, async () => {
  const und = number();
  const rej = number();
  const exp = number();
  smsc.rule(und, { stat: 'UNDELIV', err: '012' });
  smsc.rule(rej, { stat: 'REJECTD' });
  smsc.rule(exp, { stat: 'EXPIRED' });
  const u1 = await send(sms(und));
  const u2 = await send(sms(rej));
  const u3 = await send(sms(exp));
  const e1 = await rx.waitForStatuses(u1, ['undeliverable'], 10_000);
  const final1 = e1.find((e) => e.status === 'undeliverable');
  assertStatusWebhookV1(final1, { message_uuid: u1, error: 1330 });
  assert.match(final1.error.detail, /UNDELIV err 012/);
  const e2 = await rx.waitForStatuses(u2, ['rejected'], 10_000);
  assertStatusWebhookV1(e2.find((e) => e.status === 'rejected'), { message_uuid: u2, error: 1282 });
  const e3 = await rx.waitForStatuses(u3, ['rejected'], 10_000);
  assertStatusWebhookV1(e3.find((e) => e.status === 'rejected'), { message_uuid: u3, error: 1360 });
});

test('a submit the SMSC refuses (ESME_RINVDSTADR 0x0B) is rejected 1170 at once', { timeout: 30_000 }, async () => {
  const to = number();
  smsc.rule(to, { status: 0x0B });
  const uuid = await send(sms(to));
  const events = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  const rejected = events.find((e) => e.status === 'rejected');
  assertStatusWebhookV1(rejected, { message_uuid: uuid, error: 1170 });
  assert.match(rejected.error.detail, /ESME_RINVDSTADR/);
  assert.equal(submitsFor(to).length, 1, 'not retried');
});

test('a receipt that arrives before the submit_sm_resp is still delivered', { timeout: 30_000 }, async () => {
  const to = number();
  smsc.rule(to, { early: true, respDelayMs: 300 });
  const uuid = await send(sms(to, { text: 'early receipt' }));
  const events = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  assert.deepEqual(events.map((e) => e.status), ['submitted', 'delivered']);
  const [s] = acceptedFor(to);
  const resp = smsc.deliverResps.find((r) => r.id === s.message_id);
  assert.equal(resp?.command_status, 0, 'the early receipt was acknowledged once recorded');
});

test('after the connection drops the connector rebinds and nothing is lost', { timeout: 60_000 }, async () => {
  const bindsBefore = smsc.binds.length;
  smsc.dropAll();
  const during = [number(), number(), number()];
  const uuids = [];
  for (const to of during) uuids.push(await send(sms(to, { text: 'after drop' })));
  await smsc.waitFor(() => smsc.binds.length > bindsBefore && smsc.bound().length === 1, 10_000, 'rebind');
  for (const u of uuids) await rx.waitForStatuses(u, ['submitted', 'delivered'], 15_000);

  // A drop while a submit_sm is in flight (no response ever): resubmitted on the new session.
  const to = number();
  smsc.rule(to, { drop: true });
  const uuid = await send(sms(to, { text: 'in flight at the drop' }));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 20_000);
  assert.equal(submitsFor(to).length, 2, 'one ambiguous submit, resubmitted once');
  assert.equal(acceptedFor(to).length, 1);
  assert.deepEqual(rx.statuses(uuid), ['submitted', 'delivered']);
});

test('enquire_link keeps the session alive', { timeout: 30_000 }, async () => {
  const before = smsc.enquireLinks;
  await smsc.waitFor(() => smsc.enquireLinks >= before + 2, 5000, 'enquire_link every second');
});

test('a mobile-originated SMS becomes an inbound webhook (from the person, to our sender)', { timeout: 30_000 }, async () => {
  const person = number();
  // The reply belongs to the application that last wrote to this person from this sender.
  const uuid = await send(sms(person, { from: '447700900999', text: 'Reply STOP to stop' }));
  await rx.waitForStatuses(uuid, ['delivered'], 10_000);
  const status = await smsc.mo({ from: person, to: '447700900999', text: 'STOP' });
  assert.equal(status, 0, 'deliver_sm_resp ESME_ROK once recorded');
  const req = await rx.waitFor((reqs) => reqs.find((r) => r.path === '/inbound' && r.json?.from === person), 10_000, 'inbound webhook');
  assert.equal(req.json.channel, 'sms');
  assert.equal(req.json.to, '447700900999');
  assert.equal(req.json.text, 'STOP');
  assert.ok(req.signature.ok, req.signature.reason);
  const unicode = await smsc.mo({ from: person, to: '447700900999', text: 'Стоп', ucs2: true });
  assert.equal(unicode, 0);
  await rx.waitFor((reqs) => reqs.find((r) => r.path === '/inbound' && r.json?.text === 'Стоп'), 10_000, 'UCS-2 inbound webhook');
});

test('concatenated MO: a 3-part UDH message out of order and a 2-part SAR-TLV message each arrive whole, once', { timeout: 30_000 }, async () => {
  const person = number();
  const uuid = await send(sms(person, { from: '447700900998', text: 'Tell us more' }));
  await rx.waitForStatuses(uuid, ['delivered'], 10_000);
  const inboundFrom = () => rx.requests.filter((r) => r.path === '/inbound' && r.json?.from === person);
  // UDH IEI 0x00 (8-bit reference 0x5A), parts 3, 1, 2, with a duplicate of part 1.
  const parts = ['The first part of a long reply, ', 'the second part, ', 'and the end.'];
  const udh = (seq) => [0x00, 0x03, 0x5A, 3, seq];
  for (const seq of [3, 1, 1, 2]) {
    const status = await smsc.mo({ from: person, to: '447700900998', text: parts[seq - 1], udh: udh(seq) });
    assert.equal(status, 0, `part ${seq} acknowledged`);
  }
  const whole = await rx.waitFor(() => inboundFrom().find((r) => r.json.text === parts.join('')), 10_000, 'the whole UDH message');
  assert.equal(whole.json.channel, 'sms');
  assert.equal(whole.json.to, '447700900998');
  assert.ok(whole.signature.ok, whole.signature.reason);
  // SAR TLVs (16-bit reference), UCS-2, parts 2 then 1.
  const sarParts = ['Привет, ', 'мир!'];
  for (const seq of [2, 1]) {
    const status = await smsc.mo({ from: person, to: '447700900998', text: sarParts[seq - 1], ucs2: true, sar: { ref: 0x1234, total: 2, seq } });
    assert.equal(status, 0, `SAR part ${seq} acknowledged`);
  }
  await rx.waitFor(() => inboundFrom().find((r) => r.json.text === sarParts.join('')), 10_000, 'the whole SAR message');
  // A late redelivery of a part of the finished message is acknowledged as a duplicate (the
  // answer comes once Herald decided): nothing is recorded.
  assert.equal(await smsc.mo({ from: person, to: '447700900998', text: parts[1], udh: udh(2) }), 0);
  assert.deepEqual(inboundFrom().map((r) => r.json.text), [parts.join(''), sarParts.join('')],
    'each message once, no part on its own');
});

test('transmitter + receiver binds, hex ids in submit_sm_resp and decimal ids in receipts without TLVs', { timeout: 60_000 }, async () => {
  const smsc2 = await Smsc.start({ idFormat: 'hex', receiptIdFormat: 'decimal', tlv: false });
  cleanup.push(() => smsc2.close());
  const rx2 = await Receiver.start();
  cleanup.push(() => rx2.close());
  const h2 = await Herald.start({
    config: smppConfig(smsc2, { bind: 'transmitter_receiver', submit_id_format: 'hex', receipt_id_format: 'decimal' }),
  });
  cleanup.push(() => h2.close({ graceful: true }));
  const app2 = await h2.createApp('smpp2', { statusUrl: rx2.url('/status') });
  rx2.addSecret(app2);
  await smsc2.waitFor(() => smsc2.bound().length === 2, 10_000, 'two binds');
  assert.deepEqual(smsc2.binds.map((b) => b.command).sort(), ['bind_receiver', 'bind_transmitter']);
  const to = number();
  const uuid = assertAccepted(await h2.post(basic(app2), sms(to))).message_uuid;
  await rx2.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  const [s] = smsc2.accepted.filter((x) => x.destination_addr === to);
  assert.match(s.message_id, /^0+[0-9A-F]+$/, 'the SMSC answered a zero-padded upper-case hex id');
});

test('a bad smpp connector configuration stops the start naming the key', { timeout: 30_000 }, async () => {
  for (const [extra, message] of [
    [{ window: 0 }, 'connectors.smsc.window: must be an integer between 1 and 1024'],
    [{ bind: 'receiver' }, 'connectors.smsc.bind: must be "transceiver" or "transmitter_receiver"'],
    [{ port: 'x' }, 'connectors.smsc.port: must be an integer between 1 and 65535'],
    [{ system_id: 'a-very-long-system-id' }, 'connectors.smsc.system_id: must be at most 15 characters'],
    [{ windw: 3 }, 'connectors.smsc.windw: unknown key for a smpp connector'],
  ]) {
    const h = new Herald({ config: smppConfig(smsc, extra) });
    cleanup.push(() => h.close());
    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', h.dataDir, '--config', h.configPath], { timeout: 10_000 });
    assert.equal(r.code, 2, `${JSON.stringify(extra)} -> exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stderr.includes(message), `expected "${message}" in: ${r.stderr}`);
    assert.ok(!r.stderr.includes('pw123'), 'the password is never printed');
  }
});

test('the password and full phone numbers never reach the logs', { timeout: 30_000 }, async () => {
  const logs = herald.stdout + herald.stderr;  // spdlog writes to stdout
  assert.match(logs, /smpp smsc: transceiver session to 127\.0\.0\.1:\d+ lost/, 'the drops above were logged');
  assert.ok(!logs.includes('pw123'), 'password logged');
  assert.ok(!/4477009\d{5}/.test(logs), `a full number was logged:\n${logs.slice(0, 2000)}`);
});
