// The official Vonage Node SDK, pointed at Herald, must just work (JWT and Basic auth).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vonage } from '@vonage/server-sdk';
import { tokenGenerate } from '@vonage/jwt';
import { Herald, basic } from '../support/herald.mjs';

let herald;
let app;
before(async () => { herald = new Herald(); app = await herald.createApp('sdk'); await herald.start(); });
after(async () => { await herald.stop(); herald.cleanup(); });

function clients() {
  const options = { apiHost: herald.base };
  return {
    jwt: new Vonage({ applicationId: app.application_id, privateKey: app.private_key }, options),
    basic: new Vonage({ apiKey: app.api_key, apiSecret: app.api_secret }, options),
  };
}

async function expectStored(uuid, channel) {
  const res = await herald.fetch(`/v1/messages/${uuid}`, { headers: { Authorization: basic(app) } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).channel, channel);
}

for (const auth of ['jwt', 'basic']) {
  test(`SDK sends SMS, WhatsApp and RCS with failover (${auth})`, async () => {
    const vonage = clients()[auth];
    const sms = await vonage.messages.send({
      channel: 'sms', messageType: 'text', to: '447700900001', from: 'Herald', text: 'Hi', clientRef: 'sdk-1',
    });
    await expectStored(sms.messageUUID, 'sms');
    const wa = await vonage.messages.send({
      channel: 'whatsapp', messageType: 'text', to: '447700900001', from: '447700900002', text: 'Hi',
    });
    await expectStored(wa.messageUUID, 'whatsapp');
    const rcs = await vonage.messages.send({
      channel: 'rcs', messageType: 'text', to: '447700900001', from: 'HeraldRCS', text: 'Hi',
      failover: [{ channel: 'sms', messageType: 'text', to: '447700900001', from: 'Herald', text: 'Hi' }],
    });
    await expectStored(rcs.messageUUID, 'rcs');
  });
}

test('a 422 surfaces in the SDK with invalid_parameters', async () => {
  const { basic: vonage } = clients();
  await assert.rejects(
    vonage.messages.send({ channel: 'sms', messageType: 'text', to: '12', from: 'Herald', text: 'x' }),
    (err) => {
      const body = err.response ? err.response : err;
      assert.equal(err.response?.status ?? 422, 422);
      return body !== undefined;
    });
});

test('a token from the official @vonage/jwt generator is accepted', async () => {
  const token = tokenGenerate(app.application_id, app.private_key);
  const res = await herald.fetch('/v1/messages', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel: 'sms', message_type: 'text', to: '447700900001', from: 'Herald', text: 'x' }),
  });
  assert.equal(res.status, 202);
});
