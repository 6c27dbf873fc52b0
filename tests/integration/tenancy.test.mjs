// Tenant isolation (reliability.md S2): an application never sees another's messages or
// workflows, and cannot tell them from ones that do not exist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, bearer, assertProblem, assertAccepted, RCS_TO_SMS, SMS } from '../support/herald.mjs';

let herald;
let a;
let b;
before(async () => {
  herald = await Herald.start();
  a = await herald.createApp('tenant-a');
  b = await herald.createApp('tenant-b');
});
after(() => herald?.close({ graceful: true }));

test("B gets 404 for A's message, failover item and workflow, with Basic and JWT", { timeout: 30_000 }, async () => {
  const { message_uuid: primary, workflow_id: wid } = assertAccepted(await herald.post(basic(a), RCS_TO_SMS), { workflow: true });
  const wf = await herald.getWorkflow(basic(a), wid);
  assert.equal(wf.status, 200, wf.text);
  const item = wf.json.items[1].message_uuid;

  const missing = await herald.getMessage(basic(b), '00000000-0000-4000-8000-000000000000');
  const missingProblem = assertProblem(missing, 404);

  for (const auth of [basic(b), bearer(b)]) {
    for (const path of [`/v1/messages/${primary}`, `/v1/messages/${item}`, `/v1/workflows/${wid}`]) {
      const res = await herald.request(path, { auth });
      const problem = assertProblem(res, 404);
      // Same answer as for something that does not exist: no existence leak.
      assert.equal(problem.type, missingProblem.type, path);
      assert.equal(problem.title, missingProblem.title, path);
      assert.ok(!res.text.includes(a.application_id), 'the owner is not revealed');
    }
  }
  // A still sees all of them.
  for (const path of [`/v1/messages/${primary}`, `/v1/messages/${item}`, `/v1/workflows/${wid}`]) {
    assert.equal((await herald.request(path, { auth: bearer(a) })).status, 200, path);
  }
});

test('unknown or malformed ids are 404 problems', { timeout: 30_000 }, async () => {
  for (const path of ['/v1/messages/00000000-0000-4000-8000-000000000000', '/v1/messages/not-a-uuid',
    '/v1/workflows/3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9', '/v1/workflows/x']) {
    assertProblem(await herald.request(path, { auth: basic(a) }), 404);
  }
});

test('a workflow id is not a message id and vice versa', { timeout: 30_000 }, async () => {
  const { message_uuid: uuid, workflow_id: wid } = assertAccepted(await herald.post(basic(a), RCS_TO_SMS), { workflow: true });
  assertProblem(await herald.getMessage(basic(a), wid), 404);
  assertProblem(await herald.getWorkflow(basic(a), uuid), 404);
});

test("each application's messages stay its own under concurrent load", { timeout: 60_000 }, async () => {
  const sends = [];
  for (let i = 0; i < 50; i++) {
    sends.push(herald.post(basic(a), { ...SMS, client_ref: `a-${i}` }).then((r) => ['a', r]));
    sends.push(herald.post(bearer(b), { ...SMS, client_ref: `b-${i}` }).then((r) => ['b', r]));
  }
  const results = await Promise.all(sends);
  for (const [owner, r] of results) {
    const uuid = assertAccepted(r).message_uuid;
    const [mine, theirs] = owner === 'a' ? [a, b] : [b, a];
    const got = await herald.getMessage(basic(mine), uuid);
    assert.equal(got.status, 200);
    assert.ok(got.json.client_ref.startsWith(`${owner}-`));
    assert.equal((await herald.getMessage(basic(theirs), uuid)).status, 404);
  }
});
