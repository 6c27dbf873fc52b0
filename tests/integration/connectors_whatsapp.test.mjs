// The WhatsApp Cloud API connector (issue 5 item 3, docs/connectors/whatsapp.md) against a
// local fake of the Graph API (tests/support/fakes/whatsapp.mjs). Formats, as the fake follows
// them:
//  - send request/response: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
//  - error codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
//  - webhooks (statuses, messages): https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
//  - verification handshake and X-Hub-Signature-256: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConnectorHarness } from '../support/connectors.mjs';
import { FakeWhatsApp } from '../support/fakes/whatsapp.mjs';
import { number, sms, whatsapp, assertStatusWebhookV1 } from '../support/delivery.mjs';

const TOKEN = 'EAAG-test-access-token';
const APP_SECRET = 'meta-app-secret-for-tests';
const VERIFY = 'verify-token-for-tests';
const PHONE_ID = '106540352242922';
const FROM = '447700900002';

let fake;
let harness;
let herald;
let rx;
let auth;
let accept;

before(async () => {
  fake = await FakeWhatsApp.start({ token: TOKEN, appSecret: APP_SECRET, phoneNumberId: PHONE_ID, displayNumber: FROM });
  harness = await startConnectorHarness({
    fake,
    routes: { whatsapp: ['wa'] },
    connectors: { wa: { type: 'whatsapp', graph_base: fake.base, phone_number_id: PHONE_ID, access_token: TOKEN, app_secret: APP_SECRET, verify_token: VERIFY } },
    appName: 'wa',
    webhookPath: '/providers/wa/webhook',
  });
  ({ herald, rx, auth, accept } = harness);
});

after(() => harness?.close());

test('text: the Cloud API request as documented, then submitted, delivered, read from signed status webhooks', { timeout: 30_000 }, async () => {
  const to = number();
  const { message_uuid: uuid } = await accept(whatsapp(to, { text: 'Hello WhatsApp', client_ref: 'wa-1' }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, from: FROM, channel: 'whatsapp', client_ref: 'wa-1' });
  const [req] = fake.requestsTo(to);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(req.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: 'Hello WhatsApp', preview_url: false } });
  const m = (await herald.getMessage(auth, uuid)).json;
  assert.equal(m.connector, 'wa');
  assert.equal(m.status, 'read');
});

test('every WhatsApp message type Herald accepts is mapped to its Cloud API object', { timeout: 30_000 }, async () => {
  const cases = [
    [{ message_type: 'image', image: { url: 'https://example.com/a.jpg', caption: 'pic' } }, { type: 'image', image: { link: 'https://example.com/a.jpg', caption: 'pic' } }],
    [{ message_type: 'audio', audio: { url: 'https://example.com/a.mp3' } }, { type: 'audio', audio: { link: 'https://example.com/a.mp3' } }],
    [{ message_type: 'video', video: { url: 'https://example.com/a.mp4', caption: 'v' } }, { type: 'video', video: { link: 'https://example.com/a.mp4', caption: 'v' } }],
    [{ message_type: 'file', file: { url: 'https://example.com/a.pdf', caption: 'doc', name: 'a.pdf' } }, { type: 'document', document: { link: 'https://example.com/a.pdf', caption: 'doc', filename: 'a.pdf' } }],
    [{ message_type: 'sticker', sticker: { url: 'https://example.com/s.webp' } }, { type: 'sticker', sticker: { link: 'https://example.com/s.webp' } }],
    [{ message_type: 'template', template: { name: 'otp', parameters: ['123456'] }, whatsapp: { locale: 'en_GB', policy: 'deterministic' } },
      { type: 'template', template: { name: 'otp', language: { policy: 'deterministic', code: 'en_GB' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '123456' }] }] } }],
    [{ message_type: 'custom', custom: { type: 'interactive', interactive: { type: 'button', body: { text: 'Pick' }, action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }] } } } },
      { type: 'interactive', interactive: { type: 'button', body: { text: 'Pick' }, action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }] } } }],
  ];
  for (const [extra, expected] of cases) {
    const to = number();
    const body = { channel: 'whatsapp', to, from: FROM, ...extra };
    const { message_uuid: uuid } = await accept(body);
    await rx.waitForStatuses(uuid, ['submitted'], 10_000);
    const [req] = fake.requestsTo(to);
    assert.ok(req, `${extra.message_type}: the fake got it`);
    const { messaging_product, recipient_type, to: reqTo, ...rest } = req.json;
    assert.equal(messaging_product, 'whatsapp');
    assert.equal(recipient_type, 'individual');
    assert.equal(reqTo, to);
    assert.deepEqual(rest, expected, extra.message_type);
  }
});

test('refused at submit (131026, not on WhatsApp): rejected 1300 at once, and the workflow fails over to SMS', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, { error: { status: 400, code: 131026, message: 'Message Undeliverable.' } });
  const { message_uuid: uuid, workflow_id } = await accept({ ...whatsapp(to), failover: [sms(to)] });
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1300 });
  assert.match(rej.error.detail, /131026/);
  assert.equal(fake.requestsTo(to).length, 1, 'not retried');
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('failed status webhook after submit: rejected with the mapped code, then failover', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, { statuses: ['sent', 'failed'], failCode: 131047 });
  const { message_uuid: uuid, workflow_id } = await accept({ ...whatsapp(to), failover: [sms(to)] });
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 10_000);
  assertStatusWebhookV1(evs[1], { message_uuid: uuid, error: 1340 });
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('rate limited (130429, HTTP 429): retried, then submitted', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, [{ error: { status: 429, code: 130429, message: 'Rate limit hit' } }, {}]);
  const { message_uuid: uuid } = await accept(whatsapp(to));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  assert.equal(fake.requestsTo(to).length, 2);
});

test('verification handshake: the challenge for the right verify token, 403 otherwise', async () => {
  const ok = await herald.request(`/providers/wa/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
  assert.equal(ok.status, 200);
  assert.equal(ok.text, '1158201444');
  const bad = await herald.request('/providers/wa/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444');
  assert.equal(bad.status, 403);
  assert.notEqual(bad.text, '1158201444');
});

test('unsigned or wrongly signed status webhooks get 401/403 and change nothing', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, { statuses: ['sent'] }); // submitted, then silence
  const { message_uuid: uuid } = await accept(whatsapp(to));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const { id } = fake.sent.find((s) => s.body.to === to);
  const failed = { statuses: [{ id, status: 'failed', timestamp: '1700000000', recipient_id: to, errors: [{ code: 131026, title: 'x' }] }] };
  const unsigned = await fake.postWebhook(failed, { sign: false, attempts: 1 });
  assert.equal(unsigned.status, 401);
  const forged = await fake.postWebhook(failed, { secret: 'not-the-app-secret', attempts: 1 });
  assert.equal(forged.status, 403);
  const read = { statuses: [{ id, status: 'read', timestamp: '1700000000', recipient_id: to }] };
  assert.equal((await fake.postWebhook(read, { secret: 'not-the-app-secret', attempts: 1 })).status, 403);
  const m = (await herald.getMessage(auth, uuid)).json;
  assert.equal(m.status, 'submitted');
  assert.deepEqual(rx.events(uuid).map((e) => e.status), ['submitted']);
  // The same event, signed, is taken.
  assert.equal((await fake.postWebhook(read, { attempts: 1 })).status, 200);
  await rx.waitForStatuses(uuid, ['submitted', 'read'], 10_000);
});

test('inbound message webhook -> the application that last wrote to that person gets an inbound webhook', { timeout: 30_000 }, async () => {
  const person = number();
  const { message_uuid: uuid } = await accept(whatsapp(person));
  await rx.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
  const r = await fake.inbound(person, 'Thanks, got it');
  assert.equal(r.status, 200, r.text);
  const { json: inbound } = await rx.waitForBody((b, rec) => rec.path === '/inbound' && b.from === person, 10_000, 'inbound webhook');
  assert.equal(inbound.channel, 'whatsapp');
  assert.equal(inbound.to, FROM);
  assert.equal(inbound.text, 'Thanks, got it');
});
