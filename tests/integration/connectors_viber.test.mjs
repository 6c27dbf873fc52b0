// The Viber connector (docs/connectors/viber.md) against a local fake of the Viber REST Bot API
// (tests/support/fakes/viber.mjs). Formats, all from https://developers.viber.com/docs/api/rest-bot-api/:
//  - send_message (X-Viber-Auth-Token; receiver, min_api_version, sender {name, avatar},
//    tracking_data, type text|picture|video|file|url) and its answer {status, status_message,
//    message_token, chat_hostname}; the error codes table (#error-codes)
//  - callbacks (#callbacks): delivered, seen, failed (desc), message, webhook; signed with
//    X-Viber-Content-Signature = hex HMAC-SHA256(auth token, raw body)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConnectorHarness } from '../support/connectors.mjs';
import { FakeViber, viberUserId } from '../support/fakes/viber.mjs';
import { viber, sms, assertStatusWebhookV1 } from '../support/delivery.mjs';

const TOKEN = '445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9';
const SENDER = 'HeraldViber'; // sender_name, and the `from` the tests send with
const AVATAR = 'https://example.com/herald-avatar.jpg';

let fake;
let harness;
let herald;
let rx;
let auth;
let accept;

before(async () => {
  fake = await FakeViber.start({ token: TOKEN });
  harness = await startConnectorHarness({
    fake,
    routes: { viber_service: ['vb'] },
    connectors: { vb: { type: 'viber', api_base_url: `${fake.base}/pa`, auth_token: TOKEN, sender_name: SENDER, sender_avatar: AVATAR } },
    appName: 'vb',
    webhookPath: '/providers/vb/webhook',
  });
  ({ herald, rx, auth, accept } = harness);
});

after(() => harness?.close());

test('text and picture through send_message; delivered and seen callbacks become delivered and read', { timeout: 30_000 }, async () => {
  const to = viberUserId();
  const { message_uuid: uuid } = await accept(viber(to, { text: 'Hi Viber' }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: SENDER, channel: 'viber_service' });
  const [req] = fake.requestsTo(to);
  assert.equal(req.headers['x-viber-auth-token'], TOKEN);
  assert.deepEqual(req.json, {
    receiver: to, min_api_version: 1, sender: { name: SENDER, avatar: AVATAR }, tracking_data: uuid,
    type: 'text', text: 'Hi Viber',
  });
  // The fake's message_token is a JSON number above 2^53, as Viber's are; the send answer and
  // the receipts carried it alike (that it is kept exactly is checked in viber_test.cpp).
  assert.ok(BigInt(fake.sent.find((s) => s.body.receiver === to).token) > 2n ** 53n);

  const p = viberUserId();
  const { message_uuid: picture } = await accept({ channel: 'viber_service', message_type: 'image', to: p, from: SENDER, image: { url: 'https://example.com/cat.jpg', caption: 'A cat' } });
  await rx.waitForStatuses(picture, ['submitted', 'delivered', 'read'], 10_000);
  const body = fake.requestsTo(p)[0].json;
  assert.equal(body.type, 'picture');
  assert.equal(body.text, 'A cat');
  assert.equal(body.media, 'https://example.com/cat.jpg');
});

test('receiverNotSubscribed (6) at send: rejected 1170 at once, no retry, failover to SMS', { timeout: 30_000 }, async () => {
  const to = viberUserId();
  fake.script(to, { status: 6 });
  const { message_uuid: uuid, workflow_id } = await accept({ ...viber(to, { from: SENDER }), failover: [sms('447700912345')] });
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1170 });
  assert.match(rej.error.detail, /receiverNotSubscribed/);
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
  assert.equal(fake.requestsTo(to).length, 1, 'a rejection is not retried');
});

test('a failed callback: rejected, and the workflow fails over to its next item', { timeout: 30_000 }, async () => {
  const to = viberUserId();
  fake.script(to, { fail: 'the message could not be delivered' });
  const { message_uuid: uuid, workflow_id } = await accept({ ...viber(to, { from: SENDER }), failover: [sms('447700912346')] });
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 10_000);
  const rej = evs.find((e) => e.status === 'rejected');
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1330 });
  assert.match(rej.error.detail, /could not be delivered/);
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('unsigned or badly signed callbacks get 401/403 and change nothing; the webhook check gets 200', { timeout: 30_000 }, async () => {
  const to = viberUserId();
  fake.script(to, { silent: true });
  const { message_uuid: uuid } = await accept(viber(to, { from: SENDER }));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const { token } = fake.sent.find((s) => s.body.receiver === to);
  assert.equal((await fake.event('delivered', token, to, {}, { sign: false, attempts: 1 })).status, 401);
  assert.equal((await fake.event('delivered', token, to, {}, { key: 'not-the-token', attempts: 1 })).status, 403);
  assert.equal((await fake.event('seen', token, to, {}, { key: 'not-the-token', attempts: 1 })).status, 403);
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'submitted');
  assert.deepEqual(rx.statuses(uuid), ['submitted']);

  assert.equal((await fake.webhookCheck({ attempts: 1 })).status, 200, "set_webhook's check");
  assert.equal((await fake.webhookCheck({ sign: false, attempts: 1 })).status, 401);

  assert.equal((await fake.event('delivered', token, to, {}, { attempts: 1 })).status, 200);
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
});

test('a message from a subscriber is an inbound webhook, and the reply to its sender id is accepted', { timeout: 30_000 }, async () => {
  const user = viberUserId();
  const { message_uuid: first } = await accept(viber(user, { from: SENDER }));
  await rx.waitForStatuses(first, ['submitted'], 10_000);
  assert.equal((await fake.inbound(user, 'hello bot')).status, 200);
  const { json: inbound } = await rx.waitForBody((b, r) => r.path === '/inbound' && b.from === user, 10_000, 'inbound');
  assert.equal(inbound.channel, 'viber_service');
  assert.equal(inbound.to, SENDER);
  assert.equal(inbound.text, 'hello bot');
  const { message_uuid: reply } = await accept(viber(inbound.from, { from: inbound.to, text: 'hello subscriber' }));
  await rx.waitForStatuses(reply, ['submitted', 'delivered'], 10_000);
});

test('tooManyRequests (12) is retried, then sent', { timeout: 30_000 }, async () => {
  const to = viberUserId();
  fake.script(to, [{ status: 12 }, {}]);
  const { message_uuid: uuid } = await accept(viber(to, { from: SENDER }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  assert.ok(!evs.some((e) => e.status === 'rejected'));
  assert.equal(fake.requestsTo(to).length, 2);
  assert.equal(fake.sent.filter((s) => s.body.receiver === to).length, 1);
});
