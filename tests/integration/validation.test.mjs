// Refusals: 422 validation (every bad field named), 400 bad JSON, 415, 413, and 401 for every
// kind of missing, wrong or forged credentials (reliability.md S1, S4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Herald, basic, bearer, jwtFor, unsignedJwt, hs256Jwt, rawRequest, assertProblem, SMS, RCS_TO_SMS,
} from '../support/herald.mjs';

const UNAUTHORIZED = 'You did not provide correct credentials.';

let herald;
let app;
let other;
before(async () => {
  herald = await Herald.start();
  app = await herald.createApp('alpha');
  other = await herald.createApp('beta');
});
after(() => herald?.close({ graceful: true }));

test('422: problem+json naming every invalid field, failover items included', { timeout: 30_000 }, async () => {
  const res = await herald.post(basic(app), {
    channel: 'sms', message_type: 'text', to: '12', from: 'Herald', // bad "to", no "text"
    client_ref: 'x'.repeat(101),
    failover: [{ channel: 'whatsapp', message_type: 'text', to: 'not-a-number', from: '447700900002' }],
  });
  const problem = assertProblem(res, 422);
  assert.match(problem.type, /^https:\/\/developer\.vonage\.com\/api-errors\/messages#\d+$/);
  assert.ok(Array.isArray(problem.invalid_parameters), 'invalid_parameters is an array');
  for (const p of problem.invalid_parameters) {
    assert.equal(typeof p.name, 'string');
    assert.equal(typeof p.reason, 'string');
    assert.ok(p.reason.length > 0);
  }
  const names = problem.invalid_parameters.map((p) => p.name);
  for (const name of ['to', 'text', 'client_ref', 'failover[0].to', 'failover[0].text']) {
    assert.ok(names.includes(name), `invalid_parameters names ${name}: ${JSON.stringify(names)}`);
  }
  assert.equal(new Set(names).size, names.length, 'each field named once');
});

test('422 for each kind of invalid message', { timeout: 30_000 }, async () => {
  const cases = {
    'unknown channel': [{ ...SMS, channel: 'pigeon' }, 'channel'],
    'message_type not allowed on the channel': [{ ...SMS, message_type: 'image', image: { url: 'https://example.com/a.png' } }, 'message_type'],
    'missing from': [{ channel: 'sms', message_type: 'text', to: SMS.to, text: 'x' }, 'from'],
    'text too long for SMS (3200)': [{ ...SMS, text: 'x'.repeat(3201) }, 'text'],
    'failover item invalid': [{ ...RCS_TO_SMS, failover: [{ ...SMS, to: '' }] }, 'failover[0].to'],
    'failover not an array': [{ ...SMS, failover: {} }, 'failover'],
  };
  for (const [name, [body, field]] of Object.entries(cases)) {
    const res = await herald.post(basic(app), body);
    const problem = assertProblem(res, 422);
    const names = problem.invalid_parameters.map((p) => p.name);
    assert.ok(names.includes(field), `${name}: expected ${field} in ${JSON.stringify(names)}`);
  }
});

test('nothing is stored for a refused request', { timeout: 30_000 }, async () => {
  const ref = `refused-${Date.now()}`;
  assertProblem(await herald.post(basic(app), { ...SMS, client_ref: ref, to: '1' }), 422);
  assert.deepEqual(await herald.sql(`SELECT count(*) FROM message WHERE client_ref = '${ref}'`), ['0']);
});

test('400 for a body that is not JSON, or not a JSON object', { timeout: 30_000 }, async () => {
  for (const body of ['{"channel":', 'not json', '']) {
    const problem = assertProblem(await herald.post(basic(app), body), 400);
    assert.equal(problem.type, 'https://developer.vonage.com/api-errors#invalid-json', `for ${JSON.stringify(body)}`);
  }
  const nested = '['.repeat(100) + ']'.repeat(100);
  assertProblem(await herald.post(basic(app), nested), 400);
});

test('415 unless Content-Type is application/json', { timeout: 30_000 }, async () => {
  const body = JSON.stringify(SMS);
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
    assertProblem(await herald.post(basic(app), body, { 'Content-Type': type }), 415);
  }
  // fetch adds text/plain to a string body without a type; send none at all over a raw socket.
  const raw = await rawRequest(herald.base, 'POST /v1/messages HTTP/1.1\r\nHost: x\r\n'
    + `Authorization: ${basic(app)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  assert.equal(raw.status, 415, raw.body);
});

test('413 for a body over 256 KiB (300 KiB sent)', { timeout: 30_000 }, async () => {
  const big = { ...SMS, text: 'x'.repeat(300 * 1024) };
  assertProblem(await herald.post(basic(app), big), 413);

  // Refused from the declared Content-Length alone: the server answers before any body byte.
  const raw = await rawRequest(herald.base, 'POST /v1/messages HTTP/1.1\r\nHost: x\r\n'
    + `Content-Type: application/json\r\nAuthorization: ${basic(app)}\r\nContent-Length: ${300 * 1024}\r\n\r\n`);
  assert.equal(raw.status, 413);
  assert.match(raw.headers['content-type'] ?? '', /^application\/problem\+json/);

  // Without Content-Length (chunked), the limit still holds.
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
  let sent = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (sent >= 5) { controller.close(); return; }
      sent++;
      controller.enqueue(chunk);
    },
  });
  let status;
  try {
    const res = await herald.fetch('/v1/messages', {
      method: 'POST', body: stream, duplex: 'half',
      headers: { 'Content-Type': 'application/json', Authorization: basic(app) },
    });
    status = res.status;
    await res.text();
  } catch (e) {
    status = `network error: ${e.cause?.code ?? e.message}`;
  }
  assert.equal(status, 413);

  // A body just under the limit is read and judged on its content.
  const fits = { ...SMS, text: 'x'.repeat(250 * 1024) };
  assertProblem(await herald.post(basic(app), fits), 422);
});

test('401 for missing, wrong and forged credentials', { timeout: 60_000 }, async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = { application_id: app.application_id, iat: now, jti: 'jti-1', exp: now + 900 };
  const cases = {
    'no Authorization header': undefined,
    'empty Authorization': '',
    'unknown scheme': `Token ${app.api_key}`,
    'Basic, wrong secret': basic(app, { secret: 'wrong-secret' }),
    'Basic, unknown api key': basic(app, { key: 'deadbeef' }),
    "Basic, another app's secret": basic(app, { secret: other.api_secret }),
    'Basic, not base64': 'Basic %%%',
    'Basic, no colon': `Basic ${Buffer.from(app.api_key).toString('base64')}`,
    "JWT signed by another app's key": bearer(app, { key: other.private_key }),
    "JWT naming another app, signed with this app's key": bearer(app, { claims: { application_id: other.application_id } }),
    'JWT for an unknown application': bearer(app, { claims: { application_id: '00000000-0000-4000-8000-000000000000' } }),
    'JWT expired an hour ago': bearer(app, { claims: { iat: now - 7200, exp: now - 3600 } }),
    'JWT expired 31 s ago (past the leeway)': bearer(app, { claims: { iat: now - 600, exp: now - 31 } }),
    'JWT lifetime over 24 h': bearer(app, { claims: { exp: now + 86400 + 60 } }),
    'JWT nbf in the future': bearer(app, { claims: { nbf: now + 600 } }),
    'JWT without application_id': bearer(app, { omit: ['application_id'] }),
    'JWT without iat': bearer(app, { omit: ['iat'] }),
    'JWT with alg none': `Bearer ${unsignedJwt({ alg: 'none', typ: 'JWT' }, claims)}`,
    'JWT with alg none, RS256 signature kept': `Bearer ${(() => { const [, p, s] = jwtFor(app).split('.'); return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.${s}`; })()}`,
    'JWT HS256 keyed with the public key (key confusion)': `Bearer ${hs256Jwt(app.public_key, claims)}`,
    'JWT with an embedded jwk header': bearer(app, { header: { alg: 'RS256', typ: 'JWT', jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } } }),
    'JWT with a tampered payload': `Bearer ${(() => { const [h, , s] = jwtFor(app).split('.'); return `${h}.${Buffer.from(JSON.stringify({ ...claims, application_id: app.application_id, exp: now + 80000 })).toString('base64url')}.${s}`; })()}`,
    'JWT with a truncated signature': `Bearer ${jwtFor(app).slice(0, -10)}`,
    'JWT not three parts': 'Bearer abc.def',
    'JWT garbage': 'Bearer abc',
    'admin token on /v1': `Bearer ${herald.adminToken}`,
  };
  for (const [name, auth] of Object.entries(cases)) {
    const res = await herald.post(auth, SMS);
    const problem = assertProblem(res, 401);
    assert.equal(problem.title, UNAUTHORIZED, name);
    assert.equal(problem.type, 'https://developer.vonage.com/api-errors/#unathorized', name);
  }
  // GETs are protected the same way.
  const ok = await herald.post(basic(app), SMS);
  assert.equal(ok.status, 202);
  assertProblem(await herald.getMessage(undefined, ok.json.message_uuid), 401);
  assertProblem(await herald.getMessage(basic(app, { secret: 'nope' }), ok.json.message_uuid), 401);
});
