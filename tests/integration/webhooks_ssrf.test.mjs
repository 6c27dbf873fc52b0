// The webhook SSRF guard (decision 0009, docs/webhooks.md "Blocking private addresses"):
// with webhooks.block_private_addresses on, a status webhook to a loopback receiver is dead at
// once (one attempt, no retry) with the reason in last_error, the receiver sees no connection,
// and the warn log names the endpoint without the URL's query; every loopback spelling is caught;
// allowed_subnets exempts a subnet (per family); with the block off (the default) the same
// webhooks are delivered; a bad CIDR stops the start with a precise message.
//
// Only 127.0.0.1 and ::1 are used: nothing here leaves the machine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number, sms } from '../support/delivery.mjs';

const INITIAL = 200; // fastConfig's initial_retry_ms: a retry would come within ~250 ms
const BLOCKED = 'blocked: 127.0.0.1 is a loopback address (webhooks.block_private_addresses)';

const cleanup = [];
// Herald's log (spdlog's default logger writes to stdout; fatal start-up errors to stderr).
const logOf = (herald) => herald.stdout + herald.stderr;
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function startWith(webhooks) {
  const rx = await Receiver.start();
  cleanup.push(() => rx.close());
  const herald = await Herald.start({ config: fastConfig({ webhooks }) });
  cleanup.push(() => herald.close({ graceful: true }));
  const app = await herald.createApp('ssrf', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  return { rx, herald, app, auth: basic(app) };
}

async function deadOf(herald, uuid, count, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let dead = [];
  while (Date.now() < deadline) {
    const res = await herald.admin('/webhooks/dead');
    assert.equal(res.status, 200, res.text);
    dead = res.json.dead_letters.filter((d) => d.message_uuid === uuid);
    if (dead.length >= count) return dead;
    await sleep(50);
  }
  return dead;
}

test('block on: a status webhook to 127.0.0.1 is dead at once with the reason; the receiver gets nothing', { timeout: 30_000 }, async () => {
  const { rx, herald, app, auth } = await startWith({ block_private_addresses: true });
  const t0 = Date.now();
  const uuid = assertAccepted(await herald.post(auth, sms(number()))).message_uuid;
  await herald.waitMessage(auth, uuid, (m) => m.status === 'delivered', 10_000);
  const dead = await deadOf(herald, uuid, 2);
  const took = Date.now() - t0;
  assert.equal(dead.length, 2, `submitted and delivered both dead: ${JSON.stringify(dead)}`);
  assert.ok(took < 3000, `dead at once (${took} ms), not after the retry schedule`);
  for (const d of dead) {
    assert.equal(d.application_id, app.application_id);
    assert.equal(d.url, rx.url('/status'));
    assert.equal(d.attempts, 1, 'one attempt: a blocked address is final, never retried');
    assert.equal(d.last_error, BLOCKED);
  }
  await sleep(INITIAL * 4); // a retry would have happened by now
  const again = await deadOf(herald, uuid, 2);
  assert.deepEqual(again.map((d) => d.attempts), [1, 1], 'still one attempt each');
  assert.equal(rx.connections, 0, 'the loopback receiver saw no connection at all');
  assert.equal(rx.requests.length, 0);
  // The CLI lists the same reason.
  const cli = await herald.cli(['webhooks', 'list']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.ok(cli.stdout.includes(BLOCKED), cli.stdout);
  // Logged at warn with the endpoint only.
  assert.match(logOf(herald), new RegExp(`refused to connect to http://127\\.0\\.0\\.1:${rx.port}: blocked: 127\\.0\\.0\\.1 is a loopback address`));
  // A replay while the block is on is blocked again, at once.
  const replay = await herald.admin(`/webhooks/dead/${dead[0].id}/replay`, { method: 'POST' });
  assert.equal(replay.status, 202, replay.text);
  await sleep(200);
  const replayed = await deadOf(herald, uuid, 2);
  assert.equal(replayed.length, 2, `dead again after the replay: ${JSON.stringify(replayed)}`);
  for (const d of replayed) assert.equal(d.last_error, BLOCKED);
  assert.equal(rx.connections, 0);
});

test('block on: every spelling of loopback in a webhook_url is blocked, and the query is never logged', { timeout: 30_000 }, async () => {
  const { rx, herald, auth } = await startWith({ block_private_addresses: true });
  const port = rx.port;
  const loopback = '127.0.0.1 is a loopback address (webhooks.block_private_addresses)';
  const cases = [
    [`http://2130706433:${port}/hook?token=s3cret`, `blocked: ${loopback}`],
    [`http://0177.0.0.1:${port}/hook?token=s3cret`, `blocked: ${loopback}`],
    [`http://0x7f.1:${port}/hook?token=s3cret`, `blocked: ${loopback}`],
    [`http://127.1:${port}/hook?token=s3cret`, `blocked: ${loopback}`],
    // localhost may resolve to ::1 as well (then listed too): a pattern, not the exact text.
    [`http://localhost:${port}/hook?token=s3cret`, /^blocked: localhost resolves only to blocked addresses: (.*, )?127\.0\.0\.1 is a loopback address/],
    [`http://[::1]:${port}/hook?token=s3cret`, 'blocked: ::1 is a loopback address (webhooks.block_private_addresses)'],
    [`http://[::ffff:127.0.0.1]:${port}/hook?token=s3cret`, 'blocked: ::ffff:127.0.0.1 is a loopback address (webhooks.block_private_addresses)'],
  ];
  const uuids = [];
  for (const [url] of cases) uuids.push(assertAccepted(await herald.post(auth, sms(number(), { webhook_url: url }))).message_uuid);
  for (const [i, [url, reason]] of cases.entries()) {
    const dead = await deadOf(herald, uuids[i], 2);
    assert.equal(dead.length, 2, `${url}: both events dead`);
    for (const d of dead) {
      assert.equal(d.url, url);
      assert.equal(d.attempts, 1, url);
      if (reason instanceof RegExp) assert.match(d.last_error, reason, url);
      else assert.equal(d.last_error, reason, url);
    }
  }
  assert.equal(rx.connections, 0, 'no connection reached the loopback receiver');
  const log = logOf(herald);
  assert.match(log, /\[warning\] http client: refused to connect to http:\/\/2130706433:\d+: blocked: /, log);
  assert.ok(!log.includes('s3cret'), `the URL's query is not logged:\n${log}`);
  assert.ok(!log.includes('/hook'), `nor its path:\n${log}`);
});

test('block on with allowed_subnets = ["127.0.0.0/8"]: the status webhook is delivered; ::1 stays blocked', { timeout: 30_000 }, async () => {
  const { rx, herald, auth } = await startWith({ block_private_addresses: true, allowed_subnets: ['127.0.0.0/8'] });
  const uuid = assertAccepted(await herald.post(auth, sms(number()))).message_uuid;
  await rx.waitFor(() => rx.events(uuid).some((e) => e.status === 'delivered'), 10_000, 'the delivered webhook');
  rx.assertAllSigned();
  assert.deepEqual((await deadOf(herald, uuid, 1, 300)), [], 'nothing dead');

  // A numeric form is delivered too: it is the address it denotes, 127.0.0.1.
  const numeric = assertAccepted(await herald.post(auth, sms(number(), { webhook_url: `http://2130706433:${rx.port}/numeric` }))).message_uuid;
  await rx.waitFor(() => rx.forMessage(numeric).length >= 2, 10_000, 'webhooks sent to http://2130706433');

  // 127.0.0.0/8 says nothing about IPv6 loopback.
  const v6 = assertAccepted(await herald.post(auth, sms(number(), { webhook_url: `http://[::1]:${rx.port}/v6` }))).message_uuid;
  const dead = await deadOf(herald, v6, 2);
  assert.equal(dead.length, 2);
  for (const d of dead) assert.equal(d.last_error, 'blocked: ::1 is a loopback address (webhooks.block_private_addresses)');
});

test('block off (the default): the same status webhook to 127.0.0.1 is delivered', { timeout: 30_000 }, async () => {
  const { rx, herald, auth } = await startWith({});
  const uuid = assertAccepted(await herald.post(auth, sms(number()))).message_uuid;
  await rx.waitFor(() => rx.events(uuid).some((e) => e.status === 'delivered'), 10_000, 'the delivered webhook');
  rx.assertAllSigned();
  assert.ok(!logOf(herald).includes('blocked'), logOf(herald));
});

test('a bad CIDR in allowed_subnets stops the start with a precise message', { timeout: 30_000 }, async () => {
  const herald = new Herald({ config: fastConfig({ webhooks: { block_private_addresses: true, allowed_subnets: ['127.0.0.0/8', '10.0.0.1/8'] } }) });
  cleanup.push(() => herald.close());
  await assert.rejects(herald.start(), (e) => {
    assert.match(e.message, /webhooks\.allowed_subnets: '10\.0\.0\.1\/8': host bits are set past \/8 \(did you mean 10\.0\.0\.0\/8\?\)/);
    assert.match(e.message, /code 2/);
    return true;
  });
  // The environment variable is checked the same way.
  const env = new Herald({ config: fastConfig() });
  cleanup.push(() => env.close());
  await assert.rejects(env.start({ env: { HERALD_WEBHOOKS_ALLOWED_SUBNETS: '10.0.0.0/33' } }), (e) => {
    assert.match(e.message, /HERALD_WEBHOOKS_ALLOWED_SUBNETS: '10\.0\.0\.0\/33': the prefix length must be 0\.\.32/);
    return true;
  });
});
