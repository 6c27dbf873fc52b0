// Applications: the admin HTTP API behind its token, and the `herald app` CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { statSync } from 'node:fs';
import { Herald, basic, bearer, assertAccepted, assertProblem, sleep, SMS, UUID_RE } from '../support/herald.mjs';

let herald;
before(async () => { herald = await Herald.start(); });
after(() => herald?.close({ graceful: true }));

const publicPemOf = (privatePem) => createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' });
const SECRET_FIELDS = ['api_secret', 'signature_secret', 'private_key', 'api_secret_hash'];

// Applications are cached for a short time (docs/api.md: 2 s): poll, bounded.
async function eventually(check, ms = 6000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await sleep(200);
  }
}

test('admin API: 401 without the admin token or with a wrong one', { timeout: 30_000 }, async () => {
  assertProblem(await herald.admin('/applications', { token: null }), 401);
  assertProblem(await herald.admin('/applications', { token: 'wrong-token-0123456789' }), 401);
  assertProblem(await herald.admin('/applications', { method: 'POST', token: null, body: { name: 'x' } }), 401);
  // An application's credentials are not admin credentials.
  const app = await herald.createApp('not-admin');
  assertProblem(await herald.request('/admin/v1/applications', { auth: basic(app) }), 401);
  assertProblem(await herald.request('/admin/v1/applications', { auth: bearer(app) }), 401);
});

test('admin API: create, list, show, update, delete', { timeout: 30_000 }, async () => {
  const created = await herald.admin('/applications', { method: 'POST', body: { name: 'ops', status_url: 'https://example.com/status' } });
  assert.equal(created.status, 201, created.text);
  const app = created.json;
  assert.match(app.application_id, UUID_RE);
  assert.equal(app.name, 'ops');
  assert.equal(app.status_url, 'https://example.com/status');
  assert.ok(app.api_key && app.api_secret && app.signature_secret);
  assert.match(app.private_key, /-----BEGIN PRIVATE KEY-----/);
  assert.equal(publicPemOf(app.private_key), app.public_key, 'public_key matches the private key');

  // The new credentials work at once, both kinds.
  assertAccepted(await herald.post(basic(app), SMS));
  assertAccepted(await herald.post(bearer(app), SMS));

  const list = await herald.admin('/applications');
  assert.equal(list.status, 200);
  const listed = list.json.applications.find((a) => a.application_id === app.application_id);
  assert.ok(listed, 'listed');
  for (const a of list.json.applications) for (const f of SECRET_FIELDS) assert.equal(a[f], undefined, `list shows ${f}`);
  assert.ok(!list.text.includes(app.api_secret));

  const shown = await herald.admin(`/applications/${app.application_id}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.json.name, 'ops');
  for (const f of SECRET_FIELDS) assert.equal(shown.json[f], undefined, `show has ${f}`);

  const patched = await herald.admin(`/applications/${app.application_id}`, {
    method: 'PATCH', body: { name: 'ops-2', status_url: null, inbound_url: 'https://example.com/in' },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.name, 'ops-2');
  assert.equal(patched.json.status_url, undefined);
  assert.equal(patched.json.inbound_url, 'https://example.com/in');
  assert.equal((await herald.admin(`/applications/${app.application_id}`)).json.name, 'ops-2');
  assertProblem(await herald.admin(`/applications/${app.application_id}`, { method: 'PATCH', body: { status_url: 'ftp://x' } }), 400);

  const sent = assertAccepted(await herald.post(basic(app), SMS));
  const deleted = await herald.admin(`/applications/${app.application_id}`, { method: 'DELETE' });
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, '');
  assertProblem(await herald.admin(`/applications/${app.application_id}`), 404);
  assertProblem(await herald.admin(`/applications/${app.application_id}`, { method: 'DELETE' }), 404);
  // Its credentials stop working (after the short application cache).
  await eventually(async () => (await herald.post(basic(app), SMS)).status === 401);
  await eventually(async () => (await herald.getMessage(bearer(app), sent.message_uuid)).status === 401);
});

test('admin API: bad requests', { timeout: 30_000 }, async () => {
  assert.equal((await herald.admin('/applications', { method: 'POST', body: {} })).status >= 400, true);
  assertProblem(await herald.admin('/applications', { method: 'POST', body: '{"name":' }), 400);
  assertProblem(await herald.admin('/applications/00000000-0000-4000-8000-000000000000'), 404);
});

test('without an admin token configured the admin API refuses everyone', { timeout: 30_000 }, async (t) => {
  const h = await Herald.start({ adminToken: null });
  t.after(() => h.close());
  assertProblem(await h.admin('/applications', { token: null }), 401);
  assertProblem(await h.admin('/applications', { token: 'anything-at-all-0123456789' }), 401);
  await h.stop();
});

test('herald app CLI: create, list, show, update, delete (server running)', { timeout: 60_000 }, async () => {
  const app = await herald.createApp('cli', { statusUrl: 'https://example.com/s' });
  for (const f of ['application_id', 'name', 'api_key', 'api_secret', 'signature_secret', 'private_key_path', 'public_key']) {
    assert.ok(app[f], `create prints ${f}`);
  }
  assert.equal(app.name, 'cli');
  assert.equal(app.status_url, 'https://example.com/s');
  assert.equal((statSync(app.private_key_path).mode & 0o777), 0o600, 'private key is 0600');
  assert.equal(publicPemOf(app.private_key), app.public_key);
  assertAccepted(await herald.post(bearer(app), SMS), {});

  const list = await herald.cli(['app', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(Array.isArray(list.json));
  assert.ok(list.json.some((a) => a.application_id === app.application_id));
  assert.ok(!list.stdout.includes(app.api_secret), 'no secret in list');

  const show = await herald.cli(['app', 'show', app.application_id]);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(show.json.application_id, app.application_id);
  for (const f of SECRET_FIELDS) assert.equal(show.json[f], undefined, `show has ${f}`);

  const update = await herald.cli(['app', 'update', app.application_id, '--name', 'cli-2', '--inbound-url', 'https://example.com/in']);
  assert.equal(update.code, 0, update.stderr);
  assert.equal(update.json.name, 'cli-2');
  assert.equal(update.json.inbound_url, 'https://example.com/in');
  assert.equal((await herald.admin(`/applications/${app.application_id}`)).json.name, 'cli-2', 'the server sees CLI changes');

  const del = await herald.cli(['app', 'delete', app.application_id]);
  assert.equal(del.code, 0, del.stderr);
  const gone = await herald.cli(['app', 'show', app.application_id]);
  assert.equal(gone.code, 3, 'exit 3: not found');
  await eventually(async () => (await herald.post(basic(app), SMS)).status === 401);
});

test('herald app CLI: refusals', { timeout: 30_000 }, async () => {
  const noName = await herald.cli(['app', 'create']);
  assert.notEqual(noName.code, 0);
  const app = await herald.createApp('keyfile');
  const overwrite = await herald.cli(['app', 'create', '--name', 'again', '--private-key-path', app.private_key_path]);
  assert.notEqual(overwrite.code, 0, 'refuses to overwrite an existing key file');
  const missing = await herald.cli(['app', 'show', '00000000-0000-4000-8000-000000000000']);
  assert.equal(missing.code, 3);
});
