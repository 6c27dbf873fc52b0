// The RCS connector through Google RCS Business Messaging (issue 5 item 3,
// docs/connectors/rcs.md) against a local fake (tests/support/fakes/rbm.mjs). Formats:
//  - agentMessages.create: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages/create
//  - AgentMessage / content: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages
//  - webhooks, clientToken setup, X-Goog-Signature: https://developers.google.com/business-communications/rcs-business-messaging/guides/integrate/webhooks
//  - events / user messages: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/UserEvent
//  - access tokens from a service-account key: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Herald, runCli, sleep } from '../support/herald.mjs';
import { startConnectorHarness } from '../support/connectors.mjs';
import { FakeRbm } from '../support/fakes/rbm.mjs';
import { fastConfig, number, sms, rcs, assertStatusWebhookV1 } from '../support/delivery.mjs';

const TOKEN = 'ya29.test-oauth-token';
const CLIENT_TOKEN = 'SJENCPGJESMGUFPY';
const AGENT = 'herald_test_agent';

let fake;
let harness;
let herald;
let rx;
let auth;
let accept;

before(async () => {
  fake = await FakeRbm.start({ token: TOKEN, clientToken: CLIENT_TOKEN, agentId: AGENT });
  harness = await startConnectorHarness({
    fake,
    routes: { rcs: ['rbm'] },
    connectors: { rbm: { type: 'rbm', api_base: fake.base, agent_id: AGENT, sender_id: 'HeraldRCS', access_token: TOKEN, client_token: CLIENT_TOKEN } },
    appName: 'rcs',
    webhookPath: '/providers/rbm/events',
  });
  ({ herald, rx, auth, accept } = harness);
});

after(() => harness?.close());

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

describe('access tokens minted from a service-account key (service_account_key_file)', () => {
  const EMAIL = 'herald-rbm@herald-test.iam.gserviceaccount.com';
  let keys;
  let dir;
  let keyFile;
  let fakeSa;
  let harnessSa;
  let rxSa;
  let heraldSa;
  let acceptSa;

  const connector = (extra) => ({ type: 'rbm', api_base: fakeSa.base, agent_id: AGENT, sender_id: 'HeraldRCS', client_token: CLIENT_TOKEN, ...extra });
  const writeKey = (name, fields) => {
    const path = join(dir, name);
    writeFileSync(path, typeof fields === 'string' ? fields : JSON.stringify(fields, null, 2));
    return path;
  };
  const keyJson = (overrides = {}) => ({
    type: 'service_account', project_id: 'herald-test', private_key_id: '0123456789abcdef', private_key: keys.privateKey,
    client_email: EMAIL, client_id: '100000000000000000001', auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: fakeSa.tokenUri, ...overrides,
  });
  const bearer = (req) => req.headers.authorization;

  before(async () => {
    keys = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    dir = mkdtempSync(join(tmpdir(), 'herald-rbm-sa-'));
    fakeSa = await FakeRbm.start({ clientToken: CLIENT_TOKEN, agentId: AGENT, publicKey: keys.publicKey, clientEmail: EMAIL });
    keyFile = writeKey('service-account.json', keyJson());
    harnessSa = await startConnectorHarness({
      fake: fakeSa,
      routes: { rcs: ['rbm'] },
      connectors: { rbm: connector({ service_account_key_file: keyFile }) },
      appName: 'rcs-sa',
      webhookPath: '/providers/rbm/events',
      // Debug logging, so the check that no token or key reaches the logs covers every line.
      start: (h) => ({ replaceArgs: true, args: ['--listen', '127.0.0.1:0', '--data-dir', h.dataDir, '--config', h.configPath, '--log-level', 'debug'] }),
    });
    ({ herald: heraldSa, rx: rxSa, accept: acceptSa } = harnessSa);
  });

  after(async () => {
    try {
      await harnessSa?.close();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a token is minted with a signed assertion and used; concurrent sends share it', { timeout: 30_000 }, async () => {
    const tos = [number(), number(), number(), number()];
    const accepted = await Promise.all(tos.map((to) => acceptSa(rcs(to, { text: 'Hi SA' }))));
    for (const { message_uuid: uuid } of accepted) await rxSa.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 10_000);
    assert.deepEqual(fakeSa.tokenAnswers.map((a) => a.status), [200], 'one token request, accepted');
    const [req] = fakeSa.tokenRequests();
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(Object.keys(fakeSa.lastClaims).sort(), ['aud', 'exp', 'iat', 'iss', 'scope']);
    for (const to of tos) {
      const sends = fakeSa.requestsTo(to);
      assert.equal(sends.length, 1);
      assert.equal(bearer(sends[0]), `Bearer ${fakeSa.tokenAnswers[0].token}`);
    }
  });

  test('a token RBM refuses (401) is refreshed once and the send retried; a second 401 is retryable, not rejected', { timeout: 30_000 }, async () => {
    fakeSa.tokenLifetimeS = 2; // the next tokens live 2 s (Herald uses them for 1 s)
    fakeSa.revokeTokens();
    const before = fakeSa.tokenRequests().length;
    const to = number();
    const { message_uuid: uuid } = await acceptSa(rcs(to));
    await rxSa.waitForStatuses(uuid, ['submitted'], 10_000);
    const sends = fakeSa.requestsTo(to);
    assert.equal(sends.length, 2, 'the refused send, then the retry');
    assert.equal(fakeSa.tokenRequests().length, before + 1, 'one refresh');
    assert.notEqual(bearer(sends[0]), bearer(sends[1]));
    assert.equal(bearer(sends[1]), `Bearer ${fakeSa.tokenAnswers.at(-1).token}`);

    // RBM refusing every token: one refresh per send attempt, each attempt retryable; after
    // engine.send_attempts (3) the message is undeliverable (1100), never rejected.
    const refused = number();
    fakeSa.unauthorized.add(refused);
    const tokensBefore = fakeSa.tokenRequests().length;
    const { message_uuid: refusedUuid } = await acceptSa(rcs(refused));
    const [undeliverable] = await rxSa.waitForStatuses(refusedUuid, ['undeliverable'], 15_000);
    assertStatusWebhookV1(undeliverable, { message_uuid: refusedUuid, error: 1100 });
    assert.equal(fakeSa.requestsTo(refused).length, 6, 'two requests per attempt');
    assert.equal(fakeSa.tokenRequests().length, tokensBefore + 3, 'one refresh per attempt');
  });

  test('an expiring token is refreshed before RBM would refuse it', { timeout: 30_000 }, async () => {
    const first = number();
    const a = await acceptSa(rcs(first));
    await rxSa.waitForStatuses(a.message_uuid, ['submitted'], 10_000);
    const tokensBefore = fakeSa.tokenRequests().length;
    await sleep(1300); // past Herald's refresh point (half of the 2 s lifetime), before the fake's expiry
    const to = number();
    const { message_uuid: uuid } = await acceptSa(rcs(to));
    await rxSa.waitForStatuses(uuid, ['submitted'], 10_000);
    assert.equal(fakeSa.tokenRequests().length, tokensBefore + 1, 'a new token');
    const sends = fakeSa.requestsTo(to);
    assert.equal(sends.length, 1, 'no 401 on the way');
    assert.equal(bearer(sends[0]), `Bearer ${fakeSa.tokenAnswers.at(-1).token}`);
    assert.notEqual(bearer(sends[0]), bearer(fakeSa.requestsTo(first)[0]));
  });

  test('token endpoint down: the send is retryable (never rejected) and goes out once a token can be had', { timeout: 30_000 }, async () => {
    await sleep(1300); // the cached token is due for refresh
    fakeSa.tokenDown = true;
    const tokensBefore = fakeSa.tokenRequests().length;
    const to = number();
    const { message_uuid: uuid } = await acceptSa(rcs(to));
    // Resolved as the token request arrives (before the fake answers it 503); the engine's
    // retry, 50 ms later, finds the endpoint up again.
    await fakeSa.waitFor((f) => f.tokenRequests().length > tokensBefore, 10_000, 'a token request');
    fakeSa.tokenDown = false;
    await fakeSa.waitFor((f) => f.tokenAnswers.some((t) => t.status === 503), 10_000, 'the 503');
    assert.equal(fakeSa.requestsTo(to).length, 0, 'nothing sent without a token');
    await rxSa.waitForStatuses(uuid, ['submitted', 'delivered', 'read'], 15_000);
    assert.ok(!rxSa.statuses(uuid).includes('rejected'));
    assert.equal(fakeSa.requestsTo(to).length, 1);
    assert.equal(bearer(fakeSa.requestsTo(to)[0]), `Bearer ${fakeSa.tokenAnswers.at(-1).token}`);
  });

  test('neither the key nor any token appears in the logs', () => {
    const logs = heraldSa.stdout + heraldSa.stderr;
    assert.match(logs, /cannot get an access token/, 'the token failure was logged (debug level is on)');
    for (const t of fakeSa.tokenAnswers.filter((a) => a.token)) assert.ok(!logs.includes(t.token), 'token in the logs');
    const keyBody = keys.privateKey.split('\n')[5];
    assert.ok(keyBody && !logs.includes(keyBody), 'private key in the logs');
  });

  test('a bad key file stops the start (exit 2) with a precise message that does not quote the key', { timeout: 60_000 }, async () => {
    const notPem = 'SECRET-' + 'x'.repeat(40);
    const cases = [
      [{ service_account_key_file: join(dir, 'missing.json') },
        `connectors.rbm.service_account_key_file: cannot be read (${join(dir, 'missing.json')})`],
      [{ service_account_key_file: writeKey('not-json.json', 'not json') },
        `connectors.rbm.service_account_key_file: is not a JSON object (${join(dir, 'not-json.json')})`],
      [{ service_account_key_file: writeKey('no-email.json', keyJson({ client_email: undefined })) },
        `connectors.rbm.service_account_key_file: has no client_email (${join(dir, 'no-email.json')})`],
      [{ service_account_key_file: writeKey('bad-pem.json', keyJson({ private_key: notPem })) },
        `connectors.rbm.service_account_key_file: private_key is not a PEM RSA private key (${join(dir, 'bad-pem.json')})`],
      [{ service_account_key_file: keyFile, access_token: 'ya29.static' },
        'connectors.rbm.service_account_key_file: give exactly one of access_token and service_account_key_file'],
      [{}, 'connectors.rbm.service_account_key_file: give exactly one of access_token and service_account_key_file'],
    ];
    for (const [extra, message] of cases) {
      const h = new Herald({ config: fastConfig({ routes: { rcs: ['rbm'] }, connectors: { rbm: connector(extra) } }) });
      try {
        const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', h.dataDir, '--config', h.configPath], { timeout: 20_000 });
        assert.equal(r.code, 2, `${h.configText} -> exit ${r.code}\n${r.stderr}`);
        assert.ok(r.stderr.includes(message), `expected ${message} in:\n${r.stderr}`);
        assert.ok(!r.stderr.includes('SECRET-') && !r.stderr.includes('PRIVATE KEY'), `the key is not quoted:\n${r.stderr}`);
      } finally {
        await h.close();
      }
    }
  });
});
