// The Messenger connector (issue 5 item 3, docs/connectors/messenger.md) against a local fake of
// the Messenger Platform (tests/support/fakes/messenger.mjs). Formats:
//  - Send API: https://developers.facebook.com/docs/messenger-platform/reference/send-api/
//  - error codes: https://developers.facebook.com/docs/messenger-platform/error-codes
//  - webhooks (message_deliveries delivery.mids, message_reads read.watermark, messages):
//    https://developers.facebook.com/docs/messenger-platform/webhooks
//  - verification and X-Hub-Signature-256: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConnectorHarness } from '../support/connectors.mjs';
import { FakeMessenger } from '../support/fakes/messenger.mjs';
import { messenger, sms, assertStatusWebhookV1 } from '../support/delivery.mjs';

const TOKEN = 'page-access-token-for-tests';
const APP_SECRET = 'messenger-app-secret';
const VERIFY = 'messenger-verify-token';
const PAGE = 'herald-page';

let fake;
let harness;
let herald;
let rx;
let auth;
let accept;
let n = 0;
const psid = () => `PSID${Date.now()}${++n}`;

before(async () => {
  fake = await FakeMessenger.start({ token: TOKEN, appSecret: APP_SECRET, pageId: PAGE });
  harness = await startConnectorHarness({
    fake,
    routes: { messenger: ['fb'] },
    connectors: { fb: { type: 'messenger', graph_base: fake.base, page_id: PAGE, access_token: TOKEN, app_secret: APP_SECRET, verify_token: VERIFY } },
    appName: 'fb',
    webhookPath: '/providers/fb/webhook',
  });
  ({ herald, rx, auth, accept } = harness);
});

after(() => harness?.close());

test('text and attachments through the Send API; delivered by delivery.mids, read by read.watermark', { timeout: 30_000 }, async () => {
  const to = psid();
  const { message_uuid: uuid } = await accept(messenger(to, { text: 'Hi Messenger' }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: PAGE, channel: 'messenger' });
  const [req] = fake.requestsTo(to);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(req.query.access_token, undefined, 'the token is not in the URL');
  assert.deepEqual(req.json, { recipient: { id: to }, messaging_type: 'RESPONSE', message: { text: 'Hi Messenger' } });
  for (const type of ['image', 'audio', 'video', 'file']) {
    const p = psid();
    const { message_uuid: u } = await accept({ channel: 'messenger', message_type: type, to: p, from: PAGE, [type]: { url: `https://example.com/x.${type}` } });
    await rx.waitForStatuses(u, ['submitted', 'delivered', 'read'], 10_000);
    assert.deepEqual(fake.requestsTo(p)[0].json.message, { attachment: { type, payload: { url: `https://example.com/x.${type}`, is_reusable: true } } });
  }
});

test('551 person not available: rejected 1170, failover to SMS', { timeout: 30_000 }, async () => {
  const to = psid();
  fake.script(to, { error: { code: 551, subcode: 1545041, message: 'This person isn\'t available right now.' } });
  const { message_uuid: uuid, workflow_id } = await accept({ ...messenger(to), failover: [sms('447700912345')] });
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1170 });
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('bad signatures change nothing; the handshake; inbound messages', { timeout: 30_000 }, async () => {
  const to = psid();
  fake.script(to, { silent: true });
  const { message_uuid: uuid } = await accept(messenger(to));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const { mid } = fake.sent.find((s) => s.body.recipient.id === to);
  const delivery = [{ sender: { id: to }, recipient: { id: PAGE }, delivery: { mids: [mid], watermark: Date.now() } }];
  assert.equal((await fake.postWebhook(delivery, { sign: false, attempts: 1 })).status, 401);
  assert.equal((await fake.postWebhook(delivery, { secret: 'wrong', attempts: 1 })).status, 403);
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'submitted');
  assert.equal((await fake.postWebhook(delivery, { attempts: 1 })).status, 200);
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);

  const hs = await herald.request(`/providers/fb/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=42`);
  assert.equal(hs.status, 200);
  assert.equal(hs.text, '42');
  assert.equal((await herald.request('/providers/fb/webhook?hub.mode=subscribe&hub.verify_token=x&hub.challenge=42')).status, 403);

  assert.equal((await fake.inbound(to, 'hello page')).status, 200);
  const { json: inbound } = await rx.waitForBody((b, r) => r.path === '/inbound' && b.from === to, 10_000, 'inbound');
  assert.equal(inbound.channel, 'messenger');
  assert.equal(inbound.to, PAGE);
  assert.equal(inbound.text, 'hello page');
});

test('a read watermark that arrives after a kill -9 still marks read what was sent before it', { timeout: 40_000 }, async () => {
  const to = psid();
  fake.script(to, { silent: true }); // no automatic receipts: the test posts the read itself
  const { message_uuid: uuid } = await accept(messenger(to));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const later = psid(); // a message to someone else must not be marked by this person's read
  fake.script(later, { silent: true });
  const { message_uuid: other } = await accept(messenger(later));
  await rx.waitForStatuses(other, ['submitted'], 10_000);

  await herald.restart({ kill: true });
  fake.webhookUrl = `${herald.base}/providers/fb/webhook`;
  const read = [{ sender: { id: to }, recipient: { id: PAGE }, timestamp: Date.now(), read: { watermark: Date.now() } }];
  assert.equal((await fake.postWebhook(read, { attempts: 1 })).status, 200);
  const ev = (await rx.waitForStatuses(uuid, ['read'], 10_000)).find((e) => e.status === 'read');
  assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: PAGE, channel: 'messenger' });
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'read');
  assert.equal((await herald.getMessage(auth, other)).json.status, 'submitted');
  // The same watermark again changes nothing and sends no second `read`.
  assert.equal((await fake.postWebhook(read, { attempts: 1 })).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(rx.statuses(uuid).filter((s) => s === 'read').length, 1);
});
