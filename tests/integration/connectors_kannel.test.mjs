// The Kannel connector (issue 5 item 2, docs/connectors/kannel.md) against REAL Kannel:
// bearerbox + smsbox from Debian's `kannel` and `fakesmsc` from `kannel-extras` as the SMS
// centre, all on loopback, started and stopped by this test (tests/support/kannel.mjs).
//
// Formats: Kannel 1.4.5 user guide, "SMS Push (send-sms) CGI interface" (GET
// /cgi-bin/sendsms with username, password, from, to, text, charset, coding, dlr-mask,
// dlr-url) and "Delivery reports" (dlr-url escapes %d = type, %A = SMSC answer; types 1
// delivered, 2 failed, 4 buffered, 8 SMSC success, 16 SMSC failure):
// https://www.kannel.org/download/1.4.5/userguide-1.4.5/userguide.html
// Kannel's smsc_fake driver reports 8 then 1 for every message it hands to fakesmsc, so a
// message sent through it is delivered by a real Kannel delivery report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Herald, basic, assertAccepted, freePort } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { Kannel } from '../support/kannel.mjs';
import { fastConfig, number, sms, whatsapp, assertStatusWebhookV1, assertHistory } from '../support/delivery.mjs';

const SKIP = Kannel.available() ? false : 'Kannel is not installed (apt-get install kannel kannel-extras; scripts/deps.sh)';
const DLR_SECRET = 'kannel-dlr-secret-0123456789';
const QUIET_SECRET = 'kannel-quiet-secret-987654321';
const BLOCKED_PREFIX = '4477009999';
const token = (secret, uuid) => createHmac('sha256', secret).update(`kannel-dlr:${uuid}`).digest('hex').slice(0, 32);

let kannel;
let rx;
let herald; // sms = [kannel]
let herald2; // sms = [kannel-down, kannel-quiet]: provider failover, failure-only DLRs
let app;
let app2;

before(async () => {
  if (SKIP) return;
  kannel = await Kannel.start({ blackListRegex: `^${BLOCKED_PREFIX}` });
  rx = await Receiver.start();
  const base = { type: 'kannel', sendsms_url: kannel.sendsmsUrl, username: kannel.username, password: kannel.password };
  herald = await Herald.start({
    config: fastConfig({
      routes: { sms: ['kannel'] },
      connectors: { kannel: { ...base, dlr_secret: DLR_SECRET, dlr_mask: 31 } },
    }),
  });
  app = await herald.createApp('kannel', { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
  rx.addSecret(app);
  const closed = await freePort();
  herald2 = await Herald.start({
    config: fastConfig({
      routes: { sms: ['kannel-down', 'kannel-quiet'] },
      connectors: {
        'kannel-down': { ...base, sendsms_url: `http://127.0.0.1:${closed}/cgi-bin/sendsms`, dlr_secret: DLR_SECRET },
        // Failure reports only (2 | 16): the fake SMSC's delivered report is never asked for.
        'kannel-quiet': { ...base, dlr_secret: QUIET_SECRET, dlr_mask: 18 },
      },
    }),
  });
  app2 = await herald2.createApp('kannel2', { statusUrl: rx.url('/status2') });
  rx.addSecret(app2);
});

after(async () => {
  await herald?.close({ graceful: true });
  await herald2?.close({ graceful: true });
  await rx?.close();
  await kannel?.stop();
});

async function accept(h, a, body) {
  return assertAccepted(await h.post(basic(a), body), { workflow: Array.isArray(body.failover) });
}

test('SMS through Kannel: submitted, then delivered by Kannel\'s own DLR; the SMS centre got it', { skip: SKIP, timeout: 30_000 }, async () => {
  const to = number();
  const sentBefore = await kannel.sentCount();
  const { message_uuid: uuid } = await accept(herald, app, sms(to, { text: 'Hello through Kannel', client_ref: 'k-1' }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 15_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: 'Herald', channel: 'sms', client_ref: 'k-1' });
  const m = await herald.waitMessage(basic(app), uuid, 'delivered');
  assert.equal(m.connector, 'kannel');
  assertHistory(m);
  assert.ok(await kannel.sentCount() >= sentBefore + 1, 'bearerbox handed the message to the fake SMS centre');
});

test('unicode text goes out as UCS-2 (coding=2) and is delivered', { skip: SKIP, timeout: 30_000 }, async () => {
  const to = number();
  const { message_uuid: uuid } = await accept(herald, app, sms(to, { text: 'Привет, мир 😀' }));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 15_000);
  const forced = await accept(herald, app, sms(number(), { text: 'plain', sms: { encoding_type: 'unicode' } }));
  await rx.waitForStatuses(forced.message_uuid, ['submitted', 'delivered'], 15_000);
});

test('a number Kannel refuses (black-list) is rejected at once and the workflow fails over', { skip: SKIP, timeout: 30_000 }, async () => {
  const to = `${BLOCKED_PREFIX}01`;
  const body = { ...sms(to), failover: [whatsapp(to)] };
  const { message_uuid: uuid } = await accept(herald, app, body);
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 15_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, status: 'rejected', error: 1160 });
  assert.match(rej.error.detail, /denied/);
  const { json: next } = await rx.waitForBody((b) => b.channel === 'whatsapp' && b.to === to && b.status === 'read', 15_000, 'the failover item read');
  assert.notEqual(next.message_uuid, uuid);
});

test('a DLR callback without the right token gets 403 and changes nothing', { skip: SKIP, timeout: 30_000 }, async () => {
  const { message_uuid: uuid } = await accept(herald, app, sms(number()));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 15_000);
  const before = (await herald.getMessage(basic(app), uuid)).json;
  const forged = [
    `/providers/kannel/dlr?m=${uuid}&type=2`,
    `/providers/kannel/dlr?m=${uuid}&t=${'0'.repeat(32)}&type=2`,
    `/providers/kannel/dlr?m=${uuid}&t=${token('wrong-secret-0000000000', uuid)}&type=2`,
    `/providers/kannel/dlr?m=${uuid}&t=${token(QUIET_SECRET, uuid)}&type=2`, // another connector's secret
  ];
  for (const path of forged) {
    const r = await herald.request(path);
    assert.equal(r.status, 403, `${path} -> ${r.status} ${r.text}`);
  }
  assert.equal((await herald.request('/providers/nope/dlr')).status, 404);
  const after = (await herald.getMessage(basic(app), uuid)).json;
  assert.equal(after.status, 'delivered');
  assert.deepEqual(after.events, before.events, 'history unchanged');
  assert.deepEqual(rx.events(uuid).map((e) => e.status), ['submitted', 'delivered'], 'no further webhook');
});

test('provider failover: a Kannel that is down is retried, then the next Kannel connector sends; a failed DLR fails the workflow over', { skip: SKIP, timeout: 40_000 }, async () => {
  const to = number();
  const sentBefore = await kannel.sentCount();
  const body = { ...sms(to), failover: [whatsapp(to)] };
  const { message_uuid: uuid } = await accept(herald2, app2, body);
  await rx.waitForStatuses(uuid, ['submitted'], 15_000);
  const m = await herald2.waitMessage(basic(app2), uuid, 'submitted');
  assert.equal(m.connector, 'kannel-quiet', 'sent by the second connector of the route');
  await kannel.waitUntil('the message reached the SMS centre', async () => (await kannel.sentCount()) > sentBefore, 15_000);
  // Kannel calls the dlr-url it was given; the SMS centre here never fails, so the test makes
  // the call Kannel would make for a type 2 (failed) report, with the per-message token.
  const r = await herald2.request(`/providers/kannel-quiet/dlr?m=${uuid}&t=${token(QUIET_SECRET, uuid)}&type=2&reply=${encodeURIComponent('id:1 stat:UNDELIV err:001')}`);
  assert.equal(r.status, 200, r.text);
  const [rej] = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 15_000).then((evs) => evs.filter((e) => e.status === 'rejected'));
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1330 });
  assert.match(rej.error.detail, /UNDELIV/);
  await rx.waitForBody((b) => b.channel === 'whatsapp' && b.to === to && b.status === 'read', 15_000, 'the failover item read');
});
