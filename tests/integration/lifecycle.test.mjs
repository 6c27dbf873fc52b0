// Process lifecycle: graceful SIGTERM/SIGINT (exit 0, in-flight requests finish, nothing
// acknowledged lost), configuration from the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, ADMIN_TOKEN, basic, assertAccepted, sleep, SMS } from '../support/herald.mjs';

test('SIGTERM on an idle server: exit code 0', { timeout: 30_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  assert.equal(await herald.stop({ signal: 'SIGTERM' }), 0);
});

test('SIGINT: exit code 0', { timeout: 30_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  assert.equal(await herald.stop({ signal: 'SIGINT' }), 0);
});

test('SIGTERM under load: exit 0, and every 202 given is kept', { timeout: 90_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  const app = await herald.createApp('graceful');
  // 10 clients post in a loop until the server is gone; SIGTERM once 20 messages are in.
  const acknowledged = [];
  const other = [];
  let stopping = false;
  let n = 0;
  const client = async () => {
    for (let k = 0; k < 500; k++) {
      const r = await herald.post(basic(app), { ...SMS, client_ref: `g-${n++}` }, {}, { timeout: 5000 }).catch(() => null);
      if (r === null) { if (stopping) return; continue; } // refused or cut while stopping
      if (r.status === 202) acknowledged.push(r.json.message_uuid);
      else other.push(`${r.status} ${r.text}`);
      if (stopping && r.status !== 202) return;
    }
  };
  const clients = Array.from({ length: 10 }, client);
  const deadline = Date.now() + 30_000;
  while (acknowledged.length < 20 && Date.now() < deadline) await sleep(10);
  assert.ok(acknowledged.length >= 20, 'the server accepted messages before the stop');
  stopping = true;
  assert.equal(await herald.stop(), 0);
  await Promise.all(clients);
  t.diagnostic(`${acknowledged.length} acknowledged; other answers while stopping: ${JSON.stringify(other.slice(0, 3))}`);
  for (const answer of other) assert.match(answer, /^503 /, 'only 202 or 503 while stopping');

  await herald.start();
  for (const uuid of acknowledged) assert.equal((await herald.getMessage(basic(app), uuid)).status, 200, `lost ${uuid}`);
  await herald.stop();
});

test('a restarted server keeps its applications and messages', { timeout: 30_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  const app = await herald.createApp('restart');
  const { message_uuid: uuid } = assertAccepted(await herald.post(basic(app), SMS));
  await herald.stop();
  await herald.start();
  assert.equal((await herald.getMessage(basic(app), uuid)).status, 200);
  assertAccepted(await herald.post(basic(app), SMS));
  await herald.stop();
});

test('HERALD_* environment variables configure serve; flags win over them', { timeout: 30_000 }, async (t) => {
  const herald = new Herald();
  t.after(() => herald.close());
  await herald.start({
    replaceArgs: true, args: [],
    env: { HERALD_LISTEN: '127.0.0.1:0', HERALD_DATA_DIR: herald.dataDir, HERALD_ADMIN_TOKEN: ADMIN_TOKEN, HERALD_LOG_LEVEL: 'warn', HERALD_IO_THREADS: '2' },
  });
  assert.equal((await herald.admin('/applications')).status, 200, 'admin token from HERALD_ADMIN_TOKEN');
  await herald.stop();

  const flagToken = `flag-token-${Date.now()}-0123456789`;
  await herald.start({
    replaceArgs: true, args: ['--listen', '127.0.0.1:0', '--admin-token', flagToken],
    env: { HERALD_LISTEN: '127.0.0.1:1', HERALD_DATA_DIR: herald.dataDir, HERALD_ADMIN_TOKEN: ADMIN_TOKEN, HERALD_LOG_LEVEL: 'warn' },
  });
  assert.equal((await herald.admin('/applications', { token: flagToken })).status, 200, 'the flag wins');
  assert.equal((await herald.admin('/applications', { token: ADMIN_TOKEN })).status, 401);
  await herald.stop();
});

test('a bad configuration stops the start with a message, not a hang', { timeout: 30_000 }, async (t) => {
  const herald = new Herald();
  t.after(() => herald.close());
  await assert.rejects(herald.start({ args: ['--io-threads', '0'] }), /exited before it was ready/);
});
