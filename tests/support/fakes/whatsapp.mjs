// A fake WhatsApp Cloud API (Graph API) that follows Meta's documented formats:
//  - send: POST /{version}/{phone_number_id}/messages, Bearer token; 200
//    {"messaging_product":"whatsapp","contacts":[{"input","wa_id"}],"messages":[{"id":"wamid..."}]}
//    https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
//  - errors: {"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}
//    https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
//  - status and message webhooks: {"object":"whatsapp_business_account","entry":[{"id",
//    "changes":[{"field":"messages","value":{"messaging_product","metadata":{
//    "display_phone_number","phone_number_id"},"statuses":[...]|"contacts"+"messages":[...]}}]}]}
//    signed X-Hub-Signature-256 = sha256=HMAC-SHA256(app secret, raw body)
//    https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
//    https://developers.facebook.com/docs/graph-api/webhooks/getting-started
//
//   const wa = await FakeWhatsApp.start({ token, appSecret, phoneNumberId, displayNumber });
//   wa.webhookUrl = herald.base + '/providers/wa/webhook';
//   wa.script(to, { error: { status: 400, code: 131026 } })        // refuse at submit
//   wa.script(to, { statuses: ['sent', 'failed'], failCode: 131026 }) // fail after submit
//   wa.script(to, [{ error: { status: 429, code: 130429 } }, {}])   // per attempt; the last repeats
import { createHmac, randomBytes } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';

export const hubSignature = (secret, raw) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

export class FakeWhatsApp extends FakeServer {
  static async start(options) {
    const f = new FakeWhatsApp(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ token, appSecret, phoneNumberId, displayNumber, version = 'v21.0' }) {
    super('fake-whatsapp');
    Object.assign(this, { token, appSecret, phoneNumberId, displayNumber, version });
    this.scripts = new Map();
    this.sent = []; // {id, body}
    this.webhookUrl = null;
  }

  script(to, s) { this.scripts.set(to, Array.isArray(s) ? [...s] : [s]); return this; }
  nextScript(to) {
    const list = this.scripts.get(to);
    if (!list) return {};
    return list.length > 1 ? list.shift() : list[0];
  }
  requestsTo(to) { return this.requests.filter((r) => r.json?.to === to); }

  async handle(req, res, rec) {
    if (rec.method !== 'POST' || rec.path !== `/${this.version}/${this.phoneNumberId}/messages`) {
      return this.json(res, 404, { error: { message: 'Unknown path', type: 'GraphMethodException', code: 100 } });
    }
    if (rec.headers.authorization !== `Bearer ${this.token}`) {
      return this.json(res, 401, { error: { message: 'Error validating access token', type: 'OAuthException', code: 190, fbtrace_id: 'x' } });
    }
    const b = rec.json;
    if (!b || b.messaging_product !== 'whatsapp' || !b.to || !b.type) {
      return this.json(res, 400, { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 } });
    }
    const s = this.nextScript(b.to);
    if (s.error) {
      const { status, code, message = 'scripted error', headers = {} } = s.error;
      return this.json(res, status, { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: message }, fbtrace_id: 'x' } }, headers);
    }
    const id = `wamid.${randomBytes(12).toString('base64url')}`;
    this.sent.push({ id, body: b });
    this.json(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: b.to, wa_id: b.to }], messages: [{ id }] });
    this.notify();
    // Status webhooks, in order, after the answer.
    (async () => {
      for (const status of s.statuses ?? ['sent', 'delivered', 'read']) {
        await sleep(s.delayMs ?? 30);
        const st = { id, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: b.to };
        if (status === 'failed') st.errors = [{ code: s.failCode ?? 131026, title: 'Message undeliverable.' }];
        await this.postWebhook({ statuses: [st] });
      }
    })();
  }

  envelope(value) {
    return {
      object: 'whatsapp_business_account',
      entry: [{ id: 'WABA-1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: this.displayNumber, phone_number_id: this.phoneNumberId }, ...value } }] }],
    };
  }

  // Posts a signed webhook (value = {statuses} or {contacts, messages}); `sign` overrides.
  async postWebhook(value, { sign = true, secret = this.appSecret, attempts = 5 } = {}) {
    const raw = JSON.stringify(this.envelope(value));
    const headers = { 'Content-Type': 'application/json' };
    if (sign) headers['X-Hub-Signature-256'] = hubSignature(secret, raw);
    return this.callback(this.webhookUrl, { body: raw, headers, attempts });
  }

  inbound(from, text, { name = 'Kerry' } = {}) {
    return this.postWebhook({
      contacts: [{ profile: { name }, wa_id: from }],
      messages: [{ from, id: `wamid.${randomBytes(8).toString('hex')}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
    });
  }
}
