// A fake Messenger Platform (Graph API) following Meta's documented formats:
//  - Send API: POST /{version}/me/messages with the Page token; {"recipient":{"id"},
//    "messaging_type","message":{"text"}|{"attachment":{"type","payload":{"url","is_reusable"}}}};
//    200 {"recipient_id","message_id"}: https://developers.facebook.com/docs/messenger-platform/reference/send-api/
//  - errors {"error":{"message","type","code","error_subcode","fbtrace_id"}}:
//    https://developers.facebook.com/docs/messenger-platform/error-codes
//  - webhooks {"object":"page","entry":[{"id","time","messaging":[{"sender","recipient",
//    "timestamp","delivery":{"mids","watermark"}}|{"read":{"watermark"}}|{"message":{"mid","text"}}]}]}
//    signed X-Hub-Signature-256: https://developers.facebook.com/docs/messenger-platform/webhooks
//    (message_deliveries, message_reads, messages)
import { randomBytes } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';
import { hubSignature } from './whatsapp.mjs';

export class FakeMessenger extends FakeServer {
  static async start(options) {
    const f = new FakeMessenger(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ token, appSecret, pageId, version = 'v21.0' }) {
    super('fake-messenger');
    Object.assign(this, { token, appSecret, pageId, version });
    this.scripts = new Map();
    this.sent = [];
    this.webhookUrl = null;
  }

  script(psid, s) { this.scripts.set(psid, s); return this; }
  requestsTo(psid) { return this.requests.filter((r) => r.json?.recipient?.id === psid); }

  async handle(req, res, rec) {
    if (rec.method !== 'POST' || rec.path !== `/${this.version}/me/messages`) return this.json(res, 404, { error: { message: 'Unknown path', code: 100 } });
    const token = rec.headers.authorization === `Bearer ${this.token}` || rec.query.access_token === this.token;
    if (!token) return this.json(res, 401, { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190, fbtrace_id: 'x' } });
    const b = rec.json;
    const psid = b?.recipient?.id;
    if (!psid || !b.message || !b.messaging_type) return this.json(res, 400, { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 } });
    const s = this.scripts.get(psid) ?? {};
    if (s.error) return this.json(res, s.error.status ?? 400, { error: { message: s.error.message ?? 'scripted', type: 'OAuthException', code: s.error.code, error_subcode: s.error.subcode, fbtrace_id: 'x' } });
    const mid = `m_${randomBytes(12).toString('base64url')}`;
    this.sent.push({ mid, body: b });
    this.json(res, 200, { recipient_id: psid, message_id: mid });
    if (s.silent) return;
    (async () => {
      await sleep(30);
      await this.postWebhook([{ sender: { id: psid }, recipient: { id: this.pageId }, timestamp: Date.now(), delivery: { mids: [mid], watermark: Date.now() } }]);
      await sleep(30);
      await this.postWebhook([{ sender: { id: psid }, recipient: { id: this.pageId }, timestamp: Date.now(), read: { watermark: Date.now() } }]);
    })();
  }

  async postWebhook(messaging, { sign = true, secret = this.appSecret, attempts = 5 } = {}) {
    const raw = JSON.stringify({ object: 'page', entry: [{ id: this.pageId, time: Date.now(), messaging }] });
    const headers = { 'Content-Type': 'application/json' };
    if (sign) headers['X-Hub-Signature-256'] = hubSignature(secret, raw);
    return this.callback(this.webhookUrl, { body: raw, headers, attempts });
  }

  inbound(psid, text) {
    return this.postWebhook([{ sender: { id: psid }, recipient: { id: this.pageId }, timestamp: Date.now(), message: { mid: `m_${randomBytes(8).toString('hex')}`, text } }]);
  }
}
