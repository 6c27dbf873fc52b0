// Shared pieces of the delivery-engine tests (decision 0005): a fast configuration, the shape
// checks of status webhooks (contract §6) and of the message history, and small helpers.
import assert from 'node:assert/strict';
import { ISO_TIME_RE, MESSAGE_UUID_RE } from './herald.mjs';

// Fast timings: simulator receipts in tens of ms, send retries from 50 ms, webhook retries from
// 200 ms (jitter as in production), a short give-up so the dead-letter path is reachable.
export function fastConfig({ engine = {}, routes, connectors, webhooks = {}, simulator = {}, rules = [] } = {}) {
  const config = {
    engine: { send_attempts: 3, send_retry_initial_ms: 50, send_retry_max_ms: 200, ...engine },
    webhooks: {
      initial_retry_ms: 200, max_retry_ms: 800, give_up_after_ms: 3000, jitter: 0.2,
      connect_timeout_ms: 3000, response_timeout_ms: 15000, per_endpoint_concurrency: 8, ...webhooks,
    },
    simulator: { delivered_after_ms: 30, read_after_ms: 60, ...simulator, rules },
  };
  if (routes) config.routes = routes;
  if (connectors) config.connectors = connectors;
  if (rules.length === 0) delete config.simulator.rules;
  return config;
}

export const FINAL_MESSAGE_STATES = new Set(['delivered', 'read', 'rejected', 'undeliverable', 'skipped', 'revoked']);
export const WEBHOOK_STATUSES = new Set(['submitted', 'delivered', 'read', 'rejected', 'undeliverable']);
export const USAGE_CHANNELS = new Set(['sms', 'mms', 'messenger', 'viber_service', 'whatsapp']);
export const ERROR_TYPE = (code) => `https://developer.vonage.com/api-errors/messages#${code}`;

// A status webhook in the v1 shape (contract §6.1, §4.5). `expect` fields are compared exactly;
// `error` is a code (number) to expect on the event; `workflow` {workflow_id, items_number,
// items_total} (numbers or strings) or null for "must have none".
export function assertStatusWebhookV1(ev, expect = {}) {
  const where = `webhook ${ev.message_uuid} ${ev.channel} ${ev.status}`;
  for (const f of ['message_uuid', 'to', 'from', 'channel', 'timestamp', 'status']) {
    assert.equal(typeof ev[f], 'string', `${where}: ${f} is a string (${JSON.stringify(ev)})`);
  }
  assert.match(ev.message_uuid, MESSAGE_UUID_RE, `${where}: message_uuid`);
  assert.match(ev.timestamp, ISO_TIME_RE, `${where}: timestamp ISO 8601 UTC`);
  for (const f of ['message_uuid', 'to', 'from', 'channel', 'status', 'client_ref']) {
    if (expect[f] !== undefined) assert.equal(ev[f], expect[f], `${where}: ${f}`);
  }
  if (expect.client_ref === null) assert.equal(ev.client_ref, undefined, `${where}: no client_ref when none was sent`);
  if (ev.status === 'read') assert.ok(!['sms', 'mms'].includes(ev.channel), `${where}: sms/mms never get read`);
  if (expect.error !== undefined) {
    assert.ok(ev.error && typeof ev.error === 'object', `${where}: error object (${JSON.stringify(ev)})`);
    assert.equal(ev.error.type, ERROR_TYPE(expect.error), `${where}: error.type`);
    assert.equal(ev.error.title, String(expect.error), `${where}: error.title is the code as a string`);
    assert.equal(typeof ev.error.detail, 'string', `${where}: error.detail`);
  } else if (['rejected', 'undeliverable'].includes(ev.status)) {
    assert.ok(ev.error && typeof ev.error.title === 'string', `${where}: a ${ev.status} event carries error`);
  } else {
    assert.equal(ev.error, undefined, `${where}: no error on ${ev.status}`);
  }
  if (ev.usage !== undefined) {
    assert.ok(USAGE_CHANNELS.has(ev.channel), `${where}: usage only on channels that have it (not ${ev.channel})`);
    assert.equal(ev.usage.currency, 'EUR', `${where}: usage.currency`);
    assert.equal(typeof ev.usage.price, 'string', `${where}: usage.price is a string`);
  }
  if (expect.workflow === null) {
    assert.equal(ev.workflow, undefined, `${where}: no workflow outside failover`);
  } else if (expect.workflow) {
    assert.deepEqual(ev.workflow, {
      workflow_id: expect.workflow.workflow_id,
      items_number: String(expect.workflow.items_number),
      items_total: String(expect.workflow.items_total),
    }, `${where}: workflow (strings)`);
  }
}

// The v0.1 shape (contract §6.4): to/from objects, error {code: int, reason}.
export function assertStatusWebhookV01(ev, { uuid, type, to, from, status, error, client_ref } = {}) {
  const where = `v0.1 webhook ${ev.message_uuid} ${ev.status}`;
  assert.equal(ev.message_uuid, uuid, where);
  assert.deepEqual(ev.to, { type, number: to }, `${where}: to {type, number}`);
  assert.deepEqual(ev.from, { type, number: from }, `${where}: from {type, number}`);
  assert.match(ev.timestamp ?? '', ISO_TIME_RE, `${where}: timestamp`);
  if (status) assert.equal(ev.status, status, where);
  assert.equal(ev.channel, undefined, `${where}: no v1 channel field`);
  if (client_ref !== undefined) assert.equal(ev.client_ref, client_ref, `${where}: client_ref`);
  if (error !== undefined) {
    assert.equal(ev.error?.code, error, `${where}: error.code is an integer`);
    assert.equal(typeof ev.error.reason, 'string', `${where}: error.reason`);
  } else {
    assert.equal(ev.error, undefined, `${where}: no error`);
  }
}

// GET /v1/messages/{uuid} history: events [{status, timestamp, error?: {code, detail}}], in
// order (timestamps non-decreasing); returns the statuses.
export function assertHistory(message, expectedStatuses, { errors = {} } = {}) {
  const where = `history of ${message.message_uuid}`;
  assert.ok(Array.isArray(message.events), `${where}: events is an array (${JSON.stringify(message)})`);
  const statuses = message.events.map((e) => e.status);
  if (expectedStatuses) assert.deepEqual(statuses, expectedStatuses, where);
  let prev = '';
  for (const e of message.events) {
    assert.match(e.timestamp ?? '', ISO_TIME_RE, `${where}: ${e.status}.timestamp`);
    assert.ok(Date.parse(e.timestamp) >= (prev ? Date.parse(prev) : 0), `${where}: timestamps in order`);
    prev = e.timestamp;
    if (errors[e.status] !== undefined) {
      assert.equal(e.error?.code, errors[e.status], `${where}: ${e.status}.error.code`);
      assert.equal(typeof e.error.detail, 'string', `${where}: ${e.status}.error.detail`);
    } else if (['rejected', 'undeliverable'].includes(e.status)) {
      assert.equal(typeof e.error?.code, 'number', `${where}: ${e.status} has error.code`);
    }
  }
  return statuses;
}

// Unique E.164 numbers (12 digits) so each test's simulator rules match only its messages.
let nextNumber = 0;
export function number(prefix = '4477009') {
  nextNumber++;
  return `${prefix}${String(nextNumber).padStart(5, '0')}`;
}

export const sms = (to, extra = {}) => ({ channel: 'sms', message_type: 'text', to, from: 'Herald', text: 'Hello', ...extra });
export const rcs = (to, extra = {}) => ({ channel: 'rcs', message_type: 'text', to, from: 'HeraldRCS', text: 'Hello', ...extra });
export const whatsapp = (to, extra = {}) => ({ channel: 'whatsapp', message_type: 'text', to, from: '447700900002', text: 'Hello', ...extra });
export const messenger = (to, extra = {}) => ({ channel: 'messenger', message_type: 'text', to, from: 'herald-page', text: 'Hello', ...extra });
export const viber = (to, extra = {}) => ({ channel: 'viber_service', message_type: 'text', to, from: 'HeraldViber', text: 'Hello', ...extra });
export const mms = (to, extra = {}) => ({ channel: 'mms', message_type: 'image', to, from: '447700900002', image: { url: 'https://example.com/a.jpg' }, ...extra });

// A server whose messages stay where the accept path put them (`queued`, failover items
// `waiting`): every send fails and its retry is an hour away. For the tests of what was
// accepted and stored, which the engine would otherwise race.
export const PARKED_CONFIG = Object.freeze({
  engine: { send_attempts: 100, send_retry_initial_ms: 3_600_000, send_retry_max_ms: 3_600_000 },
  simulator: { rules: [{ to: '*', submit: ['fail'] }] },
});
