// The official Vonage Node SDK (@vonage/server-sdk, @vonage/messages), pointed at Herald with
// `apiHost`, must work unchanged, with JWT and with Basic credentials.
//
// How the SDK picks its credentials (@vonage/messages, Messages#addAuthenticationToRequest):
// JWT (Authorization: Bearer, RS256, claims application_id/iat/jti/exp = iat + 900) whenever the
// credentials have both `applicationId` and `privateKey` (PEM text or a path to the key file);
// otherwise Basic from `apiKey`/`apiSecret`. So give only apiKey/apiSecret to force Basic, and
// applicationId/privateKey to force JWT; with all four, JWT wins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vonage } from '@vonage/server-sdk';
import { Messages, SMS, RCSText, WhatsAppText } from '@vonage/messages';
import { Herald, basic, decodeJwt, MESSAGE_UUID_RE } from '../support/herald.mjs';
import { startRecordingProxy } from '../support/proxy.mjs';
import { PARKED_CONFIG } from '../support/delivery.mjs';

let herald;
let app;
let proxy;
before(async () => {
  herald = await Herald.start({ config: PARKED_CONFIG }); // messages stay queued: what the SDK sent is what is stored
  app = await herald.createApp('sdk');
  proxy = await startRecordingProxy(herald.base);
});
after(async () => {
  await proxy?.close();
  await herald?.close({ graceful: true });
});

const TO = '447700900001';
const jwtCredentials = () => ({ applicationId: app.application_id, privateKey: app.private_key });
const basicCredentials = () => ({ apiKey: app.api_key, apiSecret: app.api_secret });

// Herald's own view of a message (GET is a Herald extension; Basic auth of the same app).
async function stored(uuid) {
  assert.match(uuid ?? '', MESSAGE_UUID_RE, 'the SDK returned a messageUUID');
  const res = await herald.getMessage(basic(app), uuid);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function sendThree(messages) {
  const sms = await messages.send(new SMS({ to: TO, from: 'Herald', text: 'Hello from the SDK', clientRef: 'sdk-sms' }));
  const smsRow = await stored(sms.messageUUID);
  assert.equal(smsRow.channel, 'sms');
  assert.equal(smsRow.client_ref, 'sdk-sms');
  assert.equal(smsRow.status, 'queued');

  const rcs = Object.assign(new RCSText({ to: TO, from: 'HeraldRCS', text: 'Hello over RCS' }), {
    failover: [new SMS({ to: TO, from: 'Herald', text: 'Hello over SMS' })],
  });
  const rcsSent = await messages.send(rcs);
  const rcsRow = await stored(rcsSent.messageUUID);
  assert.equal(rcsRow.channel, 'rcs');
  assert.equal(rcsRow.workflow?.items_total, '2');
  const wf = await herald.getWorkflow(basic(app), rcsRow.workflow.workflow_id);
  assert.equal(wf.status, 200);
  assert.deepEqual(wf.json.items.map((i) => [i.channel, i.status]), [['rcs', 'queued'], ['sms', 'waiting']]);
  assert.equal(wf.json.items[0].message_uuid, rcsSent.messageUUID);

  const wa = await messages.send(new WhatsAppText({ to: TO, from: '447700900002', text: 'Hello on WhatsApp' }));
  assert.equal((await stored(wa.messageUUID)).channel, 'whatsapp');
}

test('JWT: the SDK sends SMS, RCS with failover to SMS, and WhatsApp', { timeout: 60_000 }, async () => {
  const vonage = new Vonage(jwtCredentials(), { apiHost: herald.base });
  await sendThree(vonage.messages);
});

test('Basic: the SDK sends SMS, RCS with failover to SMS, and WhatsApp', { timeout: 60_000 }, async () => {
  const vonage = new Vonage(basicCredentials(), { apiHost: herald.base });
  await sendThree(vonage.messages);
});

test('plain objects with camelCase keys, as SDK users write them, work too', { timeout: 30_000 }, async () => {
  const vonage = new Vonage(basicCredentials(), { apiHost: herald.base });
  const { messageUUID } = await vonage.messages.send({
    channel: 'rcs', messageType: 'text', to: TO, from: 'HeraldRCS', text: 'Hi', clientRef: 'plain-1',
    failover: [{ channel: 'sms', messageType: 'text', to: TO, from: 'Herald', text: 'Hi', clientRef: 'plain-1-sms' }],
  });
  const row = await stored(messageUUID);
  assert.equal(row.client_ref, 'plain-1');
  const wf = await herald.getWorkflow(basic(app), row.workflow.workflow_id);
  const item = await stored(wf.json.items[1].message_uuid);
  assert.equal(item.client_ref, 'plain-1-sms');
});

test('which credentials the SDK sends: JWT when applicationId+privateKey, else Basic', { timeout: 60_000 }, async () => {
  const configurations = {
    'applicationId + privateKey': [jwtCredentials(), 'jwt'],
    'apiKey + apiSecret': [basicCredentials(), 'basic'],
    'all four (JWT wins)': [{ ...basicCredentials(), ...jwtCredentials() }, 'jwt'],
    'applicationId without privateKey (Basic)': [{ ...basicCredentials(), applicationId: app.application_id }, 'basic'],
    'privateKey as a file path': [{ applicationId: app.application_id, privateKey: app.private_key_path }, 'jwt'],
  };
  for (const [name, [credentials, expected]] of Object.entries(configurations)) {
    proxy.clear();
    const vonage = new Vonage(credentials, { apiHost: proxy.base });
    const { messageUUID } = await vonage.messages.send(new SMS({ to: TO, from: 'Herald', text: name }));
    await stored(messageUUID);
    assert.equal(proxy.exchanges.length, 1, name);
    const { method, path, headers, status } = proxy.last();
    assert.equal(`${method} ${path} ${status}`, 'POST /v1/messages 202', name);
    const authorization = headers.authorization ?? '';
    if (expected === 'jwt') {
      assert.match(authorization, /^Bearer /, name);
      const { header, claims } = decodeJwt(authorization.slice(7));
      assert.deepEqual(header, { alg: 'RS256', typ: 'JWT' }, name);
      assert.equal(claims.application_id, app.application_id, name);
      assert.match(claims.jti, /^[0-9a-f-]{36}$/, name);
      assert.equal(claims.exp - claims.iat, 900, name);
    } else {
      assert.equal(authorization, basic(app), name);
    }
  }
});

test('what goes over the wire: snake_case JSON, failover items included', { timeout: 30_000 }, async () => {
  proxy.clear();
  const vonage = new Vonage(jwtCredentials(), { apiHost: proxy.base });
  const rcs = Object.assign(new RCSText({ to: TO, from: 'HeraldRCS', text: 'wire', clientRef: 'wire-1' }), {
    failover: [new SMS({ to: TO, from: 'Herald', text: 'wire' })],
  });
  const { messageUUID } = await vonage.messages.send(rcs);
  const { headers, body, response } = proxy.last();
  assert.match(headers['content-type'], /^application\/json/);
  const sent = JSON.parse(body);
  assert.deepEqual(sent, {
    to: TO, from: 'HeraldRCS', client_ref: 'wire-1', message_type: 'text', text: 'wire', channel: 'rcs',
    failover: [{ to: TO, from: 'Herald', message_type: 'text', text: 'wire', channel: 'sms' }],
  });
  // Herald answered {message_uuid, workflow_id}; the SDK keeps only messageUUID.
  const answer = JSON.parse(response);
  assert.equal(answer.message_uuid, messageUUID);
  assert.match(answer.workflow_id, /^[0-9A-Za-z]{55}$/);
});

test('the standalone Messages client from @vonage/messages, with its own options', { timeout: 30_000 }, async () => {
  for (const credentials of [basicCredentials(), jwtCredentials()]) {
    const messages = new Messages(credentials, { apiHost: herald.base, timeout: 10_000 });
    const { messageUUID } = await messages.send(new SMS({ to: TO, from: 'Herald', text: 'standalone' }));
    assert.equal((await stored(messageUUID)).channel, 'sms');
  }
});

// The SDK throws a VetchError whose `response` is the fetch Response, body unread.
async function sdkError(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, 'an Error');
    assert.ok(err.response, `the error has the HTTP response: ${err}`);
    const text = await err.response.text();
    return { err, status: err.response.status, contentType: err.response.headers.get('content-type'), text, json: JSON.parse(text) };
  }
  assert.fail('the SDK call should have failed');
}

test('a 422 from Herald surfaces in the SDK with invalid_parameters', { timeout: 30_000 }, async () => {
  const vonage = new Vonage(basicCredentials(), { apiHost: herald.base });
  const e = await sdkError(vonage.messages.send(new SMS({ to: '12', from: 'Herald', text: 'x' })));
  assert.equal(e.status, 422);
  assert.match(e.err.message, /422/);
  assert.match(e.contentType, /^application\/problem\+json/);
  assert.ok(Array.isArray(e.json.invalid_parameters));
  assert.ok(e.json.invalid_parameters.some((p) => p.name === 'to'), e.text);

  const many = await sdkError(vonage.messages.send({ channel: 'sms', messageType: 'text', to: '12', from: 'Herald' }));
  assert.deepEqual(many.json.invalid_parameters.map((p) => p.name).sort(), ['text', 'to']);
});

test('a 401 surfaces in the SDK for wrong credentials, Basic and JWT', { timeout: 30_000 }, async () => {
  const other = await herald.createApp('sdk-other');
  const wrongSecret = new Vonage({ apiKey: app.api_key, apiSecret: 'wrong-secret' }, { apiHost: herald.base });
  const wrongKey = new Vonage({ applicationId: app.application_id, privateKey: other.private_key }, { apiHost: herald.base });
  for (const vonage of [wrongSecret, wrongKey]) {
    const e = await sdkError(vonage.messages.send(new SMS({ to: TO, from: 'Herald', text: 'x' })));
    assert.equal(e.status, 401);
    assert.equal(e.json.title, 'You did not provide correct credentials.');
  }
});
