// Engine settings from herald.toml (decision 0005 "Configuration"): the strict Vonage reading
// `engine.undeliverable_failover = false` (only `rejected` fails over), rules from the file,
// and a bad configuration refused at start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Herald, basic, assertAccepted, sleep, runCli } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number, sms, rcs } from '../support/delivery.mjs';

const cleanup = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

test('undeliverable_failover = false: an undeliverable item does not fail over; rejected still does', { timeout: 30_000 }, async () => {
  const down = number();
  const refused = number();
  const rx = await Receiver.start();
  cleanup.push(() => rx.close());
  const herald = await Herald.start({
    config: fastConfig({
      engine: { undeliverable_failover: false },
      rules: [
        { channel: 'rcs', to: down, submit: ['fail'] },
        { channel: 'rcs', to: refused, events: [{ status: 'rejected', after_ms: 30, error: 1300 }] },
      ],
    }),
  });
  cleanup.push(() => herald.close({ graceful: true }));
  const app = await herald.createApp('strict', { statusUrl: rx.url('/status') });
  rx.addSecret(app);

  const a = assertAccepted(await herald.post(basic(app), { ...rcs(down), failover: [sms(down)] }), { workflow: true });
  const wf = await herald.waitWorkflow(basic(app), a.workflow_id, 'failed', 10_000);
  assert.equal(wf.items[0].status, 'undeliverable');
  assert.ok(['waiting', 'skipped'].includes(wf.items[1].status), `the SMS is not sent (${wf.items[1].status})`);
  await sleep(300);
  assert.deepEqual(rx.statuses(a.message_uuid), ['undeliverable']);
  assert.equal(rx.forMessage(wf.items[1].message_uuid).length, 0);

  const b = assertAccepted(await herald.post(basic(app), { ...rcs(refused), failover: [sms(refused)] }), { workflow: true });
  const wf2 = await herald.waitWorkflow(basic(app), b.workflow_id, 'completed', 10_000);
  assert.deepEqual(wf2.items.map((i) => i.status), ['rejected', 'delivered']);
});

test('a bad engine/simulator configuration stops the start with exit code 2 naming the key', { timeout: 30_000 }, async () => {
  for (const [config, key] of [
    [{ engine: { send_attempts: 'three' } }, 'send_attempts'],
    [{ webhooks: { no_such_key: 1 } }, 'no_such_key'],
    [{ routes: { sms: ['nope'] } }, 'nope'],
    [{ simulator: { rules: [{ channel: 'sms', submit: ['explode'] }] } }, 'submit'],
  ]) {
    const herald = new Herald({ config });
    cleanup.push(() => herald.close());
    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', herald.dataDir, '--config', herald.configPath], { timeout: 10_000 });
    assert.equal(r.code, 2, `${herald.configText} -> exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(key), `the message names ${key}: ${r.stderr}`);
  }
});

test('examples/herald.toml (every key with its default) is accepted and the server starts', { timeout: 30_000 }, async () => {
  // The file's listen and data_dir are overridden by the harness's flags (flags win).
  const herald = await Herald.start({ config: readFileSync(new URL('../../examples/herald.toml', import.meta.url), 'utf8') });
  cleanup.push(() => herald.close({ graceful: true }));
  assert.equal((await herald.request('/readyz')).status, 200);
});
