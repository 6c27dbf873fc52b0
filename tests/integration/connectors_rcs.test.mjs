// The RCS connector through Google RCS Business Messaging (issue 5 item 3,
// docs/connectors/rcs.md) against a local fake (tests/support/fakes/rbm.mjs). Formats:
//  - agentMessages.create: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages/create
//  - AgentMessage / content: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages
//  - webhooks, clientToken setup, X-Goog-Signature: https://developers.google.com/business-communications/rcs-business-messaging/guides/integrate/webhooks
//  - events / user messages: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/UserEvent
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { FakeRbm } from '../support/fakes/rbm.mjs';
import { fastConfig, number, sms, rcs, assertStatusWebhookV1 } from '../support/delivery.mjs';

const TOKEN = 'ya29.test-oauth-token';
const CLIENT_TOKEN = 'SJENCPGJESMGUFPY';
const AGENT = 'herald_test_agent';

let fake;
let rx;
let herald;
let app;
let auth;

before(async () => {
  fake = await FakeRbm.start({ token: TOKEN, clientToken: CLIENT_TOKEN, agentId: AGENT });
  rx = await Receiver.start();
  herald = await Herald.start({
    config: fastConfig({
      routes: { rcs: ['rbm'] },
      connectors: { rbm: { type: 'rbm', api_base: fake.base, agent_id: AGENT, sender_id: 'HeraldRCS', access_token: TOKEN, client_token: CLIENT_TOKEN } },
    }),
  });
  fake.webhookUrl = `${herald.base}/providers/rbm/events`;
  app = await herald.createApp('rcs', { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
  rx.addSecret(app);
  auth = basic(app);
});

after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
  await fake?.close();
});

async function accept(body) {
  return assertAccepted(await herald.post(auth, body), { workflow: Array.isArray(body.failover) });
}

test('RCS text: agentMessages request with messageId = message uuid; DELIVERED and READ events', { timeout: 30_000 }, async () => {
  const to = number();
  const { message_uuid: uuid } = await accept(rcs(to, { text: 'Hi RCS', ttl: 600 }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: 'HeraldRCS', channel: 'rcs' });
  const [req] = fake.requestsTo(to);
  assert.equal(req.query.messageId, uuid);
  assert.equal(req.query.agentId, AGENT);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(req.json, { contentMessage: { text: 'Hi RCS' }, ttl: '600s' });
});

test('card, carousel, image, video, file and custom are mapped to RBM content', { timeout: 30_000 }, async () => {
  const card = { title: 'Title', text: 'Body', media_url: 'https://example.com/m.png', media_height: 'MEDIUM', suggestions: [{ type: 'reply', text: 'Yes', postback_data: 'yes' }] };
  const cases = [
    [{ message_type: 'image', image: { url: 'https://example.com/a.png' } }, { contentInfo: { fileUrl: 'https://example.com/a.png' } }],
    [{ message_type: 'video', video: { url: 'https://example.com/a.mp4' } }, { contentInfo: { fileUrl: 'https://example.com/a.mp4' } }],
    [{ message_type: 'file', file: { url: 'https://example.com/a.pdf' } }, { contentInfo: { fileUrl: 'https://example.com/a.pdf' } }],
    [{ message_type: 'card', card, rcs: { card_orientation: 'VERTICAL' } },
      { richCard: { standaloneCard: { cardOrientation: 'VERTICAL', cardContent: { title: 'Title', description: 'Body', media: { height: 'MEDIUM', contentInfo: { fileUrl: 'https://example.com/m.png' } }, suggestions: [{ reply: { text: 'Yes', postbackData: 'yes' } }] } } } }],
    [{ message_type: 'carousel', carousel: { cards: [card, { ...card, title: 'Two' }] }, rcs: { card_width: 'MEDIUM' } }, null],
    [{ message_type: 'custom', custom: { text: 'free-form' } }, { text: 'free-form' }],
  ];
  for (const [extra, expected] of cases) {
    const to = number();
    const { message_uuid: uuid } = await accept({ channel: 'rcs', to, from: 'HeraldRCS', ...extra });
    await rx.waitForStatuses(uuid, ['submitted'], 10_000);
    const [req] = fake.requestsTo(to);
    assert.ok(req, extra.message_type);
    if (expected) assert.deepEqual(req.json.contentMessage, expected, extra.message_type);
    else assert.equal(req.json.contentMessage.richCard.carouselCard.cardContents.length, 2);
  }
});

test('not RCS-capable (404): rejected 1300 at once, no retry, and the SMS failover item goes out', { timeout: 30_000 }, async () => {
  const to = number();
  fake.notCapable.add(to);
  const t0 = Date.now();
  const { message_uuid: uuid, workflow_id } = await accept({ ...rcs(to), failover: [sms(to)] });
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1300 });
  const next = await rx.waitForBody((b) => b.channel === 'sms' && b.to === to && b.status === 'delivered', 10_000, 'SMS failover delivered');
  assert.ok(next.at - t0 < 3000, 'failover is immediate (no retries first)');
  assert.equal(fake.requestsTo(to).length, 1);
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('webhook setup: the secret is echoed for our clientToken only', async () => {
  const ok = await fetch(`${herald.base}/providers/rbm/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ clientToken: CLIENT_TOKEN, secret: '1234567890' }) });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), '1234567890');
  const bad = await fetch(`${herald.base}/providers/rbm/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ clientToken: 'NOT-OURS', secret: '1234567890' }) });
  assert.equal(bad.status, 403);
});

test('unsigned or wrongly signed events get 401/403 and change nothing; inbound user messages arrive', { timeout: 30_000 }, async () => {
  const to = number();
  fake.silent.add(to);
  const { message_uuid: uuid } = await accept(rcs(to));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const read = { senderPhoneNumber: `+${to}`, eventType: 'READ', eventId: 'e', messageId: uuid, agentId: AGENT };
  assert.equal((await fake.postEvent(read, { sign: false, attempts: 1 })).status, 401);
  assert.equal((await fake.postEvent(read, { token: 'WRONGTOKEN', attempts: 1 })).status, 403);
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'submitted');
  assert.deepEqual(rx.events(uuid).map((e) => e.status), ['submitted']);
  assert.equal((await fake.postEvent(read, { attempts: 1 })).status, 200);
  await rx.waitForStatuses(uuid, ['submitted', 'read'], 10_000);

  assert.equal((await fake.userMessage(to, 'STOP')).status, 200);
  const { json: inbound } = await rx.waitForBody((b, r) => r.path === '/inbound' && b.from === to, 10_000, 'inbound RCS');
  assert.equal(inbound.channel, 'rcs');
  assert.equal(inbound.to, 'HeraldRCS');
  assert.equal(inbound.text, 'STOP');
});
