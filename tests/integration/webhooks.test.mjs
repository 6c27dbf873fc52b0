// Webhook delivery (issue 3 item 5, decision 0005 "Status webhooks", contract §9): retries on
// 5xx/408/429/connection errors on the (here scaled-down) Vonage schedule with jitter, Retry-After
// honoured within [scheduled, 2 x scheduled], redirects and other 4xx final, the dead-letter list
// (`herald webhooks list`) and replay; and `herald webhooks listen`.
//
// Schedule under test (herald.toml): initial_retry_ms 200, doubling, max_retry_ms 800,
// give_up_after_ms 3000, jitter 0.2. Each test sends to its own path via the message's
// webhook_url, scripted per event (message_uuid + status) on the receiver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted, sleep, spawnHerald, freePort, parseJsonLines, hs256Jwt } from '../support/herald.mjs';
import { Receiver, sha256hex } from '../support/receiver.mjs';
import { fastConfig, number, sms, assertStatusWebhookV1 } from '../support/delivery.mjs';

const INITIAL = 200;
const MAX = 800;
const GIVE_UP = 3000;
const RESPONSE_TIMEOUT = 1000;

let herald;
let rx;
let app;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({
    config: fastConfig({ webhooks: { initial_retry_ms: INITIAL, max_retry_ms: MAX, give_up_after_ms: GIVE_UP, jitter: 0.2, response_timeout_ms: RESPONSE_TIMEOUT } }),
  });
  app = await herald.createApp('webhooks', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

const send = async (path, extra = {}) => assertAccepted(await herald.post(auth, sms(number(), { webhook_url: rx.url(path), ...extra }))).message_uuid;
const gaps = (reqs) => reqs.slice(1).map((r, i) => r.at - reqs[i].at);

async function deadLetters() {
  const r = await herald.cli(['webhooks', 'list']);
  assert.equal(r.code, 0, `herald webhooks list -> ${r.code}\n${r.stderr}`);
  return parseJsonLines(r.stdout);
}
const deadFor = (list, uuid) => list.filter((d) => JSON.stringify(d).includes(uuid));
const deadId = (d) => d.id ?? d.job_id ?? d.webhook_id;

test('503, 503, then 200: each event is retried after ~200 then ~400 ms, same body, signed each time', { timeout: 30_000 }, async () => {
  rx.scriptEach('/retry', [503, 503, 200]);
  const uuid = await send('/retry');
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 3 && rx.attempts(uuid, 'delivered').length >= 3, 10_000, 'three attempts of each event');
  await sleep(INITIAL * 4 + 500); // no further attempt once answered 200
  for (const status of ['submitted', 'delivered']) {
    const a = rx.attempts(uuid, status);
    assert.equal(a.length, 3, `${status}: 3 attempts (${a.map((r) => r.answered)})`);
    const [g1, g2] = gaps(a);
    assert.ok(g1 >= INITIAL * 0.75 && g1 <= INITIAL * 2.5, `${status}: first retry after ${g1} ms (schedule ${INITIAL} ±20 %)`);
    assert.ok(g2 >= INITIAL * 2 * 0.75 && g2 <= INITIAL * 2 * 2.5, `${status}: second retry after ${g2} ms (schedule ${2 * INITIAL} ±20 %)`);
    assert.ok(a.every((r) => r.text === a[0].text), `${status}: the same body each attempt`);
    rx.assertAllSigned(a);
    assert.equal(new Set(a.map((r) => r.signature.claims.jti)).size, 3, 'signed afresh at each attempt (new jti)');
  }
  assert.equal((await herald.getMessage(auth, uuid)).json.status, 'delivered', 'webhook trouble does not touch the message');
});

test('500 and 408 are retried too; a connection refused is retried until the receiver is up', { timeout: 30_000 }, async () => {
  rx.scriptEach('/5xx', [500, 408, 200]);
  const uuid = await send('/5xx');
  await rx.waitFor(() => rx.attempts(uuid, 'delivered').length >= 3, 10_000, '500, 408, 200');
  assert.deepEqual(rx.attempts(uuid, 'delivered').map((r) => r.answered), [500, 408, 200]);

  // Nothing listens on this port at first: connect errors, retried; then a receiver appears.
  const port = await freePort();
  const uuid2 = assertAccepted(await herald.post(auth, sms(number(), { webhook_url: `http://127.0.0.1:${port}/late` }))).message_uuid;
  await sleep(INITIAL * 2);
  const late = await Receiver.start({ port });
  late.addSecret(app);
  try {
    await late.waitFor(() => late.forMessage(uuid2).length >= 2, 10_000, 'both webhooks after the receiver came up');
    late.assertAllSigned();
  } finally {
    await late.close();
  }
});

test('a response slower than response_timeout_ms and a dropped connection are retried', { timeout: 30_000 }, async () => {
  rx.scriptEach('/slow', [{ status: 200, delayMs: RESPONSE_TIMEOUT * 2 }, { reset: true }, 200]);
  const uuid = await send('/slow');
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 3, 15_000, 'timeout, reset, 200');
  const a = rx.attempts(uuid, 'submitted');
  assert.deepEqual(a.map((r) => r.answered), [200, 'reset', 200]);
  const [g1] = gaps(a);
  assert.ok(g1 >= RESPONSE_TIMEOUT * 0.9, `the first attempt was given up after the ${RESPONSE_TIMEOUT} ms response timeout (next after ${g1} ms)`);
  // The retry is due ~INITIAL after the timeout, but the message's `delivered` webhook (itself
  // timing out once) is posted in between: one webhook of a message at a time (decision 0005).
  assert.ok(g1 <= 2 * RESPONSE_TIMEOUT + INITIAL * 2.5 + 500, `and retried on schedule (${g1} ms)`);
  await sleep(INITIAL * 3);
  assert.equal(rx.attempts(uuid, 'submitted').length, 3, 'done after the 200');
});

test('a 2xx with a large body is a success (the body is read up to 64 KiB and ignored)', { timeout: 30_000 }, async () => {
  rx.scriptEach('/big', [{ status: 200, body: 'x'.repeat(1 << 20) }, { status: 204 }], { after: 500 });
  const uuid = await send('/big');
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 1 && rx.attempts(uuid, 'delivered').length >= 1, 10_000, 'first attempts');
  await sleep(INITIAL * 3);
  assert.equal(rx.attempts(uuid, 'submitted').length, 1, 'a 200 with 1 MiB of body is not retried');
  assert.equal(rx.attempts(uuid, 'delivered').length, 1, 'a 200 with 1 MiB of body is not retried');
});

test('the webhooks of one message are posted one at a time, in order, even with many in flight per receiver (the default, 32)', { timeout: 30_000 }, async () => {
  // Each answer takes 300 ms; the message's events are 30 and 60 ms apart (whatsapp: submitted,
  // delivered, read). One at a time per message: they arrive in order, each after the previous
  // was answered (decision 0005).
  rx.scriptEach('/order', [{ status: 200, delayMs: 300 }]);
  const uuid = assertAccepted(await herald.post(auth, { channel: 'whatsapp', message_type: 'text', to: number(), from: '447700900002', text: 'hi', webhook_url: rx.url('/order') })).message_uuid;
  await rx.waitFor(() => rx.forMessage(uuid).length >= 3, 10_000, 'three webhooks');
  const reqs = rx.forMessage(uuid);
  assert.deepEqual(reqs.map((r) => r.json.status), ['submitted', 'delivered', 'read']);
  for (const g of gaps(reqs)) assert.ok(g >= 280, `the next webhook of the message waited for the answer (${g} ms)`);
});

test('429 with Retry-After is honoured within [scheduled, 2 x scheduled]', { timeout: 30_000 }, async () => {
  // Retry-After 1 s > 2 x 200 ms: the retry comes at ~2 x scheduled (clamped), not at ~200 ms and not at 1 s.
  rx.scriptEach('/429', [{ status: 429, retryAfter: 1 }, 200]);
  const uuid = await send('/429');
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 2, 10_000, 'retry after 429');
  const [g] = gaps(rx.attempts(uuid, 'submitted'));
  assert.ok(g >= 2 * INITIAL * 0.75, `retry after ${g} ms: Retry-After honoured (>= ~2 x ${INITIAL} ms)`);
  assert.ok(g <= 2 * INITIAL * 1.2 + 300, `retry after ${g} ms: clamped to 2 x scheduled, not the full 1 s`);
  // Retry-After 0 never shortens the schedule.
  rx.scriptEach('/429zero', [{ status: 429, retryAfter: 0 }, 200]);
  const uuid2 = await send('/429zero');
  await rx.waitFor(() => rx.attempts(uuid2, 'submitted').length >= 2, 10_000, 'retry after 429 (0)');
  const [g0] = gaps(rx.attempts(uuid2, 'submitted'));
  assert.ok(g0 >= INITIAL * 0.75, `retry after ${g0} ms: not before the scheduled ${INITIAL} ms`);
});

test('4xx is final: one attempt, dead-letter list, replay (server stopped) delivers it', { timeout: 60_000 }, async () => {
  rx.scriptEach('/final', [400]); // the replay then gets 200
  const uuid = await send('/final', { client_ref: 'dead-1' });
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 1 && rx.attempts(uuid, 'delivered').length >= 1, 10_000, 'first attempts');
  await sleep(INITIAL * 4 + 300);
  assert.equal(rx.attempts(uuid, 'submitted').length, 1, '400 is not retried');
  assert.equal(rx.attempts(uuid, 'delivered').length, 1, '400 is not retried');

  let dead = [];
  for (let i = 0; i < 20 && dead.length < 2; i++) { dead = deadFor(await deadLetters(), uuid); if (dead.length < 2) await sleep(100); }
  assert.equal(dead.length, 2, `both events of ${uuid} are in the dead-letter list: ${JSON.stringify(dead)}`);
  for (const d of dead) assert.ok(deadId(d) !== undefined, `a dead letter has an id: ${JSON.stringify(d)}`);
  const body = rx.attempts(uuid, 'delivered')[0].text;

  // `herald webhooks replay ID` with the server stopped; the next start sends it.
  await herald.stop();
  const ids = dead.map(deadId);
  const replay = await herald.cli(['webhooks', 'replay', ...ids.map(String)]);
  assert.equal(replay.code, 0, `replay ${ids} -> ${replay.code}\n${replay.stdout}\n${replay.stderr}`);
  assert.equal(deadFor(await deadLetters(), uuid).length, 0, 'replayed: no longer dead');
  const unknown = await herald.cli(['webhooks', 'replay', '999999999']);
  assert.notEqual(unknown.code, 0, 'replaying an unknown id fails');
  await herald.start(herald.lastStart);

  await rx.waitFor(() => rx.attempts(uuid, 'submitted').length >= 2 && rx.attempts(uuid, 'delivered').length >= 2, 10_000, 'the replayed webhooks');
  const replayed = rx.attempts(uuid, 'delivered')[1];
  assert.equal(replayed.answered, 200);
  assert.equal(replayed.text, body, 'the same webhook body');
  assert.ok(replayed.signature.ok, replayed.signature.reason);
  assertStatusWebhookV1(replayed.json, { message_uuid: uuid, status: 'delivered', client_ref: 'dead-1' });
  await sleep(500);
  assert.equal(rx.attempts(uuid, 'delivered').length, 2, 'replayed once');
});

test('retries give up after give_up_after_ms: dead letter; replay --all redelivers', { timeout: 60_000 }, async () => {
  rx.scriptEach('/down', [], { after: 503 });
  const t0 = Date.now();
  const uuid = await send('/down');
  // Wait until it is dead (the attempts stop), bounded.
  let dead = [];
  const deadline = Date.now() + GIVE_UP * 3 + 5000;
  while (dead.length < 2 && Date.now() < deadline) { await sleep(250); dead = deadFor(await deadLetters(), uuid); }
  assert.equal(dead.length, 2, `dead after giving up (${Date.now() - t0} ms): ${rx.summary(10)}`);
  const a = rx.attempts(uuid, 'submitted');
  const g = gaps(a);
  assert.ok(a.length >= 4 && a.length <= 10, `${a.length} attempts in ${GIVE_UP} ms: ${g}`);
  assert.ok(a.at(-1).at - a[0].at <= GIVE_UP * 1.5, 'no attempt long after give_up_after_ms');
  for (const x of g) assert.ok(x <= MAX * 1.25 + 150, `gap ${x} ms capped by max_retry_ms ${MAX}`);
  for (let i = 1; i < Math.min(g.length, 3); i++) assert.ok(g[i] >= g[i - 1] * 1.2, `doubling: ${g}`);
  const before = a.length;
  await sleep(MAX * 2);
  assert.equal(rx.attempts(uuid, 'submitted').length, before, 'no attempt once dead');

  rx.scriptEach('/down', []); // healed
  await herald.stop();
  const replay = await herald.cli(['webhooks', 'replay', '--all']);
  assert.equal(replay.code, 0, replay.stderr);
  await herald.start(herald.lastStart);
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').some((r) => r.answered === 200)
    && rx.attempts(uuid, 'delivered').some((r) => r.answered === 200), 10_000, 'redelivered after replay --all');
  assert.equal(deadFor(await deadLetters(), uuid).length, 0);
});

test('dead letters through the admin API: listed, replayed while the server runs', { timeout: 30_000 }, async () => {
  rx.scriptEach('/final2', [404]);
  const uuid = await send('/final2');
  let dead = [];
  for (let i = 0; i < 50 && dead.length < 2; i++) {
    await sleep(100);
    const res = await herald.admin('/webhooks/dead');
    assert.equal(res.status, 200, res.text);
    dead = res.json.dead_letters.filter((d) => d.message_uuid === uuid);
  }
  assert.equal(dead.length, 2, 'both events dead after a 404');
  for (const d of dead) {
    assert.equal(d.application_id, app.application_id);
    assert.equal(d.url, rx.url('/final2'));
    assert.equal(d.attempts, 1);
    assert.match(d.last_error ?? '', /404/);
  }
  // The CLI lists the same dead letters.
  assert.deepEqual(deadFor(await deadLetters(), uuid).map(deadId).sort(), dead.map((d) => d.id).sort());
  assert.equal((await herald.admin(`/webhooks/dead/${dead[0].id}/replay`, { method: 'POST', token: null })).status, 401);
  const res = await herald.admin(`/webhooks/dead/${dead[0].id}/replay`, { method: 'POST' });
  assert.equal(res.status, 202, res.text);
  await rx.waitFor(() => rx.forMessage(uuid).some((r) => r.answered === 200), 10_000, 'replayed via the admin API');
  assert.equal(rx.forMessage(uuid).filter((r) => r.answered === 200).length, 1, 'one event replayed, the other still dead');
  const left = (await herald.admin('/webhooks/dead')).json.dead_letters.filter((d) => d.message_uuid === uuid);
  assert.deepEqual(left.map((d) => d.id), [dead[1].id]);
  assert.equal((await herald.admin(`/webhooks/dead/${dead[0].id}/replay`, { method: 'POST' })).status, 404, 'no longer dead');
  assert.equal((await herald.admin('/webhooks/dead/999999999/replay', { method: 'POST' })).status, 404);
});

// `herald webhooks replay` is documented next to the other CLI commands that "work on the data
// directory directly, also while a server runs on it" (docs/configuration.md); a replay the
// running server only notices at its next start would look like nothing happened.
test('herald webhooks replay while the server runs: the replayed webhook is sent', {
  timeout: 30_000,
}, async () => {
  rx.scriptEach('/final3', [410]);
  const uuid = await send('/final3');
  let dead = [];
  for (let i = 0; i < 50 && dead.length < 2; i++) { await sleep(100); dead = deadFor(await deadLetters(), uuid); }
  assert.equal(dead.length, 2, 'dead after a 410');
  const r = await herald.cli(['webhooks', 'replay', ...dead.map((d) => String(deadId(d)))]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { replayed: 2 });
  await rx.waitFor(() => rx.forMessage(uuid).filter((x) => x.answered === 200).length >= 2, 10_000,
    'the running server sends webhooks replayed with the CLI');
});

test('a redirect is not followed and is final', { timeout: 30_000 }, async () => {
  rx.scriptEach('/moved', [{ status: 302, headers: { Location: rx.url('/elsewhere') } }]);
  const uuid = await send('/moved');
  await rx.waitFor(() => rx.attempts(uuid, 'delivered').length >= 1, 10_000, 'first attempt');
  await sleep(INITIAL * 4 + 300);
  assert.equal(rx.requests.filter((r) => r.path === '/elsewhere').length, 0, 'the redirect was not followed');
  assert.equal(rx.attempts(uuid, 'delivered').length, 1, 'a 3xx is not retried');
});

// A webhook signed with the wrong secret, for the listener to refuse.
function forgedWebhook(lapp, uuid) {
  const body = JSON.stringify({ message_uuid: uuid, status: 'delivered', channel: 'sms', to: '447700900001', from: 'Herald', timestamp: new Date().toISOString() });
  const now = Math.floor(Date.now() / 1000);
  const token = hs256Jwt('not-the-secret', { iat: now, jti: 'x', iss: 'Vonage', payload_hash: sha256hex(Buffer.from(body)), api_key: lapp.api_key, application_id: lapp.application_id });
  return { body, token };
}

test('herald webhooks listen: prints each webhook and whether its signature verifies', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/webhooks/status`;
  const lapp = await herald.createApp('listen', { statusUrl: url });
  const listener = spawnHerald(['webhooks', 'listen', '--port', String(port), '--secret', lapp.signature_secret]);
  try {
    const first = await listener.waitForOutput(/^herald: webhook listener on (http:\/\/[^\s:]+:(\d+))\s*$/m, 10_000);
    assert.equal(Number(first[2]), port);
    assert.ok(listener.stdout.startsWith('herald: webhook listener on '), 'the first line');
    const uuid = assertAccepted(await herald.post(basic(lapp), sms(number()))).message_uuid;
    await listener.waitForOutput(new RegExp(`${uuid}[\\s\\S]*${uuid}`), 10_000);
    assert.match(listener.stdout, /delivered/);
    assert.equal((listener.stdout.match(/signature ok/g) ?? []).length, 2, 'two webhooks, both verified');
    assert.doesNotMatch(listener.stdout, /INVALID/, 'no failure for good signatures');

    // A forged webhook (wrong secret) is printed as not verified; the listener still answers.
    const fake = 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab';
    const { body, token } = forgedWebhook(lapp, fake);
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(5000) });
    await res.text();
    assert.equal(res.status, 200, 'the listener answers 200 to everything');
    await listener.waitForOutput(new RegExp(fake), 5000);
    const block = listener.stdout.slice(listener.stdout.lastIndexOf('POST /webhooks/status'));
    assert.match(block, /INVALID|not verified|fail/i, `the forged one is reported: ${block}`);
  } finally {
    await listener.kill();
  }
});

test('herald webhooks listen --json --port 0: one JSON line per webhook with the verdict', { timeout: 30_000 }, async () => {
  const lapp = await herald.createApp('listen-json');
  const listener = spawnHerald(['webhooks', 'listen', '--port', '0', '--secret', lapp.signature_secret, '--json']);
  try {
    const first = await listener.waitForOutput(/^herald: webhook listener on (http:\/\/127\.0\.0\.1:(\d+))\s*$/m, 10_000);
    assert.notEqual(Number(first[2]), 0, 'port 0 picks a free port, printed');
    const url = `${first[1]}/hook`;
    const patched = await herald.admin(`/applications/${lapp.application_id}`, { method: 'PATCH', body: { status_url: url } });
    assert.equal(patched.status, 200, patched.text);
    await sleep(2500); // the application cache (docs/api.md)
    const uuid = assertAccepted(await herald.post(basic(lapp), sms(number()))).message_uuid;
    await listener.waitForOutput(new RegExp(`"delivered"[^\n]*${uuid}|${uuid}[^\n]*"delivered"`), 10_000);
    const { body, token } = forgedWebhook(lapp, 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab');
    await (await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(5000) })).text();
    await listener.waitForOutput(/aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab/, 5000);
    const lines = parseJsonLines(listener.stdout);
    const mine = lines.filter((l) => l.body?.message_uuid === uuid);
    assert.deepEqual(mine.map((l) => [l.body.status, l.verified, l.path]), [['submitted', true, '/hook'], ['delivered', true, '/hook']]);
    const forged = lines.find((l) => l.body?.message_uuid === 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab');
    assert.equal(forged.verified, false);
    assert.equal(typeof forged.reason, 'string');
  } finally {
    await listener.kill();
  }
});
