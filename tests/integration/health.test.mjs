// Health and readiness, and the X-Request-Id every response carries (errors included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, rawRequest, assertProblem, ANY_UUID_RE, SMS } from '../support/herald.mjs';

let herald;
let app;
before(async () => {
  herald = await Herald.start();
  app = await herald.createApp('health');
});
after(() => herald?.close({ graceful: true }));

test('GET /healthz and /readyz answer 200 with JSON', { timeout: 30_000 }, async () => {
  const health = await herald.request('/healthz');
  assert.equal(health.status, 200);
  assert.match(health.headers.get('content-type') ?? '', /^application\/json\b/);
  const ready = await herald.request('/readyz');
  assert.equal(ready.status, 200, ready.text);
});

test('every response carries a fresh X-Request-Id, errors included', { timeout: 30_000 }, async () => {
  const auth = basic(app);
  // herald.request() itself asserts the header on each response; here we also want the
  // statuses to be the ones we meant and the ids to be distinct.
  const cases = [
    ['GET /healthz', 200, () => herald.request('/healthz')],
    ['GET /readyz', 200, () => herald.request('/readyz')],
    ['POST /v1/messages 202', 202, () => herald.post(auth, SMS)],
    ['unknown route', 404, () => herald.request('/nope')],
    ['no auth', 401, () => herald.post(undefined, SMS)],
    ['wrong method', 405, () => herald.request('/v1/messages', { auth })],
    ['invalid JSON', 400, () => herald.post(auth, '{"channel":')],
    ['wrong content type', 415, () => herald.post(auth, JSON.stringify(SMS), { 'Content-Type': 'text/plain' })],
    ['validation', 422, () => herald.post(auth, { ...SMS, to: '1' })],
    ['unknown message', 404, () => herald.getMessage(auth, '00000000-0000-4000-8000-000000000000')],
    ['admin without token', 401, () => herald.admin('/applications', { token: null })],
  ];
  const ids = new Set();
  for (const [name, status, call] of cases) {
    const res = await call();
    assert.equal(res.status, status, `${name}: ${res.text}`);
    assert.match(res.requestId, ANY_UUID_RE, name);
    ids.add(res.requestId);
    if (status >= 400) assertProblem(res, status);
  }
  assert.equal(ids.size, cases.length, 'request ids are unique');
});

test('errors raised by the HTTP layer itself (413, 431) carry X-Request-Id too', { timeout: 30_000 }, async () => {
  const tooLarge = await rawRequest(herald.base,
    'POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
    + `Authorization: ${basic(app)}\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
  assert.equal(tooLarge.status, 413);
  assert.match(tooLarge.headers['x-request-id'] ?? '', ANY_UUID_RE);

  const res = await herald.fetch('/healthz', { headers: { 'X-Big': 'x'.repeat(20 * 1024) } });
  assert.equal(res.status, 431);
  assert.match(res.headers.get('x-request-id') ?? '', ANY_UUID_RE);
  await res.text();
  assert.equal((await herald.request('/healthz')).status, 200, 'still serving');
});
