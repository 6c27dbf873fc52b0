// The upstream Vonage Messages connector (issue 5 item 3, docs/connectors/vonage.md) against a
// local fake (tests/support/fakes/vonage.mjs). Formats:
//  - POST /v1/messages, 202 message_uuid, RFC 7807 errors: https://developer.vonage.com/en/api/messages
//  - application JWT (RS256): https://developer.vonage.com/en/getting-started/concepts/authentication#json-web-tokens
//  - signed status/inbound webhooks (HS256, payload_hash): https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConnectorHarness } from '../support/connectors.mjs';
import { FakeVonage } from '../support/fakes/vonage.mjs';
import { number, sms, rcs, whatsapp, assertStatusWebhookV1 } from '../support/delivery.mjs';

const APP_ID = randomUUID();
const SECRET = 'vonage-signature-secret-for-tests';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

let fake;
let harness;
let herald;
let rx;
let auth;
let accept;

before(async () => {
  fake = await FakeVonage.start({ applicationId: APP_ID, publicKey, signatureSecret: SECRET });
  harness = await startConnectorHarness({
    fake,
    routes: { sms: ['up'], rcs: ['up'], whatsapp: ['up'] },
    connectors: (h) => {
      const keyFile = join(h.dataDir, 'vonage.key');
      writeFileSync(keyFile, privateKey, { mode: 0o600 });
      return { up: { type: 'vonage', api_base: fake.base, application_id: APP_ID, private_key_file: keyFile, signature_secret: SECRET } };
    },
    appName: 'up',
  });
  ({ herald, rx, auth, accept } = harness);
});

after(() => harness?.close());

test('forwarded with Herald\'s own Vonage JWT and webhook_url; Vonage\'s status webhooks map back', { timeout: 30_000 }, async () => {
  const to = number();
  const { message_uuid: uuid } = await accept(sms(to, { client_ref: 'up-1', webhook_url: rx.url('/status') }));
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);
  for (const ev of evs) assertStatusWebhookV1(ev, { message_uuid: uuid, to, channel: 'sms', client_ref: 'up-1' });
  const [req] = fake.requestsTo(to);
  assert.equal(req.json.text, 'Hello');
  assert.equal(req.json.client_ref, 'up-1');
  assert.equal(req.json.webhook_url, `${herald.base}/providers/up/status`, 'Vonage reports to Herald, not to the client');
  assert.equal(req.json.failover, undefined);
  const m = (await herald.getMessage(auth, uuid)).json;
  assert.equal(m.connector, 'up');
  assert.notEqual(fake.sent[0].uuid, uuid, 'Vonage has its own uuid');
});

test('read on OTT channels; a rejected status fails the workflow over', { timeout: 30_000 }, async () => {
  const to = number();
  const { message_uuid: w } = await accept(whatsapp(to));
  await rx.waitForStatuses(w, ['submitted', 'delivered', 'read'], 10_000);
  const to2 = number();
  fake.script(to2, { channel: 'rcs', statuses: ['submitted', 'rejected'], errorCode: 1300 });
  const { message_uuid: uuid, workflow_id } = await accept({ ...rcs(to2), failover: [sms(to2)] });
  const evs = await rx.waitForStatuses(uuid, ['submitted', 'rejected'], 10_000);
  assertStatusWebhookV1(evs[1], { message_uuid: uuid, error: 1300 });
  await herald.waitWorkflow(auth, workflow_id, 'completed', 10_000);
});

test('422 from Vonage: rejected without retry', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, { error: { status: 422, title: 'Invalid params', detail: 'The value of the to field is invalid' } });
  const { message_uuid: uuid } = await accept(sms(to));
  const [rej] = await rx.waitForStatuses(uuid, ['rejected'], 10_000);
  assertStatusWebhookV1(rej, { message_uuid: uuid, error: 1020 });
  assert.match(rej.error.detail, /to field is invalid/);
  assert.equal(fake.requestsTo(to).length, 1);
});

test('unsigned, forged or stale status webhooks get 401/403 and change nothing; inbound arrives', { timeout: 30_000 }, async () => {
  const to = number();
  fake.script(to, { statuses: ['submitted'] });
  const { message_uuid: uuid } = await accept(sms(to));
  await rx.waitForStatuses(uuid, ['submitted'], 10_000);
  const vuuid = fake.sent.find((s) => s.body.to === to).uuid;
  const url = `${herald.base}/providers/up/status`;
  const ev = { message_uuid: vuuid, to, from: 'Herald', timestamp: new Date().toISOString(), status: 'delivered', channel: 'sms' };
  assert.equal((await fake.postSigned(url, ev, { sign: false, attempts: 1 })).status, 401);
  assert.equal((await fake.postSigned(url, ev, { secret: 'not-the-secret', attempts: 1 })).status, 403);
  assert.equal((await fake.postSigned(url, ev, { iat: Math.floor(Date.now() / 1000) - 3600, attempts: 1 })).status, 403);
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'submitted');
  assert.deepEqual(rx.events(uuid).map((e) => e.status), ['submitted']);
  assert.equal((await fake.postSigned(url, ev, { attempts: 1 })).status, 200);
  await rx.waitForStatuses(uuid, ['submitted', 'delivered'], 10_000);

  const inbound = { channel: 'sms', message_uuid: randomUUID(), to: 'Herald', from: to, timestamp: new Date().toISOString(), message_type: 'text', text: 'reply via Vonage' };
  assert.equal((await fake.postSigned(`${herald.base}/providers/up/inbound`, inbound, { attempts: 1 })).status, 200);
  const { json: got } = await rx.waitForBody((b, r) => r.path === '/inbound' && b.from === to, 10_000, 'inbound');
  assert.equal(got.text, 'reply via Vonage');
});
