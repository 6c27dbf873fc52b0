// Durability across kill -9, graceful SIGTERM, and the admin API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, post, SMS, RCS_TO_SMS, ADMIN_TOKEN } from '../support/herald.mjs';

test('every acknowledged message survives kill -9', async (t) => {
  const herald = new Herald();
  t.after(() => herald.cleanup());
  const app = await herald.createApp('durable');
  await herald.start();
  const accepted = [];
  // 200 requests, 20 at a time, then kill -9 while more are in flight.
  for (let batch = 0; batch < 10; batch++) {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      post(herald, basic(app), batch % 2 ? RCS_TO_SMS : { ...SMS, client_ref: `c${batch}-${i}` })));
    for (const r of rs) { assert.equal(r.status, 202, r.text); accepted.push(r.json.message_uuid); }
  }
  const inflight = Array.from({ length: 20 }, () => post(herald, basic(app), SMS).catch(() => null));
  await herald.kill9();
  for (const r of await Promise.all(inflight)) {
    if (r && r.status === 202) accepted.push(r.json.message_uuid);  // acknowledged before the kill
  }
  await herald.start();
  for (const uuid of accepted) {
    const res = await herald.fetch(`/v1/messages/${uuid}`, { headers: { Authorization: basic(app) } });
    assert.equal(res.status, 200, `lost ${uuid}`);
  }
  assert.equal(await herald.stop(), 0);
});

test('SIGTERM stops gracefully with exit code 0', async (t) => {
  const herald = new Herald();
  t.after(() => herald.cleanup());
  await herald.start();
  assert.equal(await herald.stop(), 0);
});

test('admin API manages applications behind the admin token', async (t) => {
  const herald = new Herald();
  t.after(async () => { await herald.stop(); herald.cleanup(); });
  await herald.start();
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
  assert.equal((await herald.fetch('/admin/v1/applications')).status, 401);
  assert.equal((await herald.fetch('/admin/v1/applications', { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 401);

  const created = await herald.fetch('/admin/v1/applications', {
    method: 'POST', headers: admin, body: JSON.stringify({ name: 'ops', status_url: 'https://example.com/status' }),
  });
  assert.equal(created.status, 201);
  const app = await created.json();
  assert.match(app.private_key, /BEGIN PRIVATE KEY/);
  assert.ok(app.api_secret && app.signature_secret);

  // The new credentials work at once.
  assert.equal((await post(herald, basic(app), SMS)).status, 202);

  const list = await (await herald.fetch('/admin/v1/applications', { headers: admin })).json();
  assert.ok(list.applications.some((a) => a.application_id === app.application_id));
  assert.ok(list.applications.every((a) => a.api_secret === undefined && a.api_secret_hash === undefined));

  const patched = await herald.fetch(`/admin/v1/applications/${app.application_id}`, {
    method: 'PATCH', headers: admin, body: JSON.stringify({ name: 'ops-2', status_url: null }),
  });
  assert.equal(patched.status, 200);
  const p = await patched.json();
  assert.equal(p.name, 'ops-2');
  assert.equal(p.status_url, undefined);
  assert.equal((await herald.fetch(`/admin/v1/applications/${app.application_id}`, {
    method: 'PATCH', headers: admin, body: JSON.stringify({ status_url: 'ftp://x' }) })).status, 400);

  assert.equal((await herald.fetch(`/admin/v1/applications/${app.application_id}`, { method: 'DELETE', headers: admin })).status, 204);
  assert.equal((await herald.fetch(`/admin/v1/applications/${app.application_id}`, { headers: admin })).status, 404);
});
