// Phase 4 of bench/timers_bench.sh: N concurrent escalations, then one acknowledgement each.
// Measures acknowledgement -> last send stopped (the acknowledge response returns after the
// commit that skips every further step) and checks no later step was ever submitted.
//   node bench/escalation_ack.mjs BASE_URL ADMIN_TOKEN N CONNS   -> JSON on stdout
// Bounded: N requests per phase, CONNS at a time, every request with a 30 s timeout.
import { setTimeout as sleep } from 'node:timers/promises';

const [base, adminToken, nArg, connsArg] = process.argv.slice(2);
const N = Number(nArg);
const CONNS = Number(connsArg);

async function call(path, { method = 'GET', auth, body } = {}) {
  const headers = { Authorization: auth };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function pool(count, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(CONNS, count) }, async () => {
    while (next < count) await fn(next++);
  });
  await Promise.all(workers);
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];

const app = await call('/admin/v1/applications', { method: 'POST', auth: `Bearer ${adminToken}`, body: { name: 'bench-escalations' } });
if (app.status !== 201) throw new Error(`create app: ${app.status}`);
const auth = `Basic ${Buffer.from(`${app.json.api_key}:${app.json.api_secret}`).toString('base64')}`;

const ids = new Array(N);
const t0 = Date.now();
await pool(N, async (i) => {
  const to = `4477006${String(i).padStart(5, '0')}`;
  const res = await call('/v1/escalations', {
    method: 'POST', auth,
    body: {
      text: 'bench',
      people: [
        { name: `p${i}`, steps: [{ channel: 'messenger', to, from: 'herald-page', expiry_time: 3600 }] },
        { name: `q${i}`, steps: [{ channel: 'sms', to: `4477007${String(i).padStart(5, '0')}`, from: 'Herald' }] },
      ],
    },
  });
  if (res.status !== 202) throw new Error(`escalation ${i}: ${res.status} ${JSON.stringify(res.json)}`);
  ids[i] = res.json.escalation_id;
});
const createMs = Date.now() - t0;
await sleep(3000); // every first step submitted and delivered; all waiting for a read

const ackMs = [];
const ackAt = new Array(N);
await pool(N, async (i) => {
  const s = Date.now();
  const res = await call(`/v1/escalations/${ids[i]}/acknowledge`, { method: 'POST', auth });
  ackMs.push(Date.now() - s);
  ackAt[i] = Date.now();
  if (res.status !== 200) throw new Error(`ack ${i}: ${res.status}`);
});
await sleep(2000);
let sendsAfterAck = 0;
let notCompleted = 0;
await pool(N, async (i) => {
  const { json } = await call(`/v1/escalations/${ids[i]}`, { auth });
  if (json.status !== 'completed') notCompleted++;
  const later = json.people[1].steps[0];
  if (later.status !== 'skipped' || later.events.some((e) => e.status === 'submitted')) sendsAfterAck++;
});
ackMs.sort((a, b) => a - b);
console.log(JSON.stringify({
  escalations: N, create_ms: createMs, not_completed: notCompleted, sends_after_ack: sendsAfterAck,
  ack_ms: { p50: pct(ackMs, 0.5), p99: pct(ackMs, 0.99), max: ackMs.at(-1) },
}));
