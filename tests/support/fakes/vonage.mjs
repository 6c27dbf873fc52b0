// A fake upstream Vonage Messages API following Vonage's documented formats:
//  - send: POST /v1/messages, Authorization: Bearer RS256 JWT of the Vonage application
//    (claims application_id, iat, jti, exp), verified here with the application's public key;
//    202 {"message_uuid"}; errors RFC 7807 {type, title, detail, instance}
//    https://developer.vonage.com/en/api/messages
//    https://developer.vonage.com/en/getting-started/concepts/authentication#json-web-tokens
//  - status webhooks POSTed to the message's webhook_url: {message_uuid, to, from, timestamp,
//    status, channel, error?{type, title, detail}} signed with Authorization: Bearer HS256 JWT
//    {iat, jti, iss: "Vonage", payload_hash, api_key, application_id} keyed with the signature
//    secret: https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks
//  - inbound messages to the inbound URL: {channel, message_uuid, to, from, timestamp,
//    message_type, text}
import { createHash, createPublicKey, createVerify, randomUUID } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';
import { hs256Jwt } from '../herald.mjs';

const READ_CHANNELS = new Set(['rcs', 'whatsapp', 'messenger', 'viber_service']);

export class FakeVonage extends FakeServer {
  static async start(options) {
    const f = new FakeVonage(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ applicationId, publicKey, signatureSecret, apiKey = 'abcd1234' }) {
    super('fake-vonage');
    Object.assign(this, { applicationId, signatureSecret, apiKey });
    this.publicKey = createPublicKey(publicKey);
    this.scripts = new Map(); // to -> {error: {status, title, detail}} | {statuses: [...], error}
    this.sent = [];
  }

  script(to, s) { this.scripts.set(to, s); return this; }
  requestsTo(to) { return this.requests.filter((r) => r.json?.to === to); }

  verifyJwt(header) {
    const token = (header ?? '').replace(/^Bearer /, '');
    const [h, p, sig] = token.split('.');
    if (!sig) return false;
    const v = createVerify('RSA-SHA256');
    v.update(`${h}.${p}`);
    if (!v.verify(this.publicKey, Buffer.from(sig, 'base64url'))) return false;
    const header_ = JSON.parse(Buffer.from(h, 'base64url'));
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    return header_.alg === 'RS256' && claims.application_id === this.applicationId && typeof claims.jti === 'string'
      && claims.iat <= now + 30 && (claims.exp === undefined || claims.exp > now);
  }

  async handle(req, res, rec) {
    if (rec.method !== 'POST' || rec.path !== '/v1/messages') return this.json(res, 404, { type: 'about:blank', title: 'Not Found' });
    if (!this.verifyJwt(rec.headers.authorization)) {
      return this.json(res, 401, { type: 'https://developer.vonage.com/api-errors#unauthorized', title: 'Unauthorized', detail: 'You did not provide correct credentials.', instance: randomUUID() });
    }
    const b = rec.json;
    let s = this.scripts.get(b?.to) ?? {};
    if (s.channel && s.channel !== b.channel) s = {}; // a script for one channel of that number
    if (s.error) return this.json(res, s.error.status, { type: 'https://developer.vonage.com/api-errors/messages#1150', title: s.error.title ?? 'Invalid params', detail: s.error.detail ?? 'scripted', instance: randomUUID() });
    const uuid = randomUUID();
    this.sent.push({ uuid, body: b });
    this.json(res, 202, { message_uuid: uuid });
    const statuses = s.statuses ?? (READ_CHANNELS.has(b.channel) ? ['submitted', 'delivered', 'read'] : ['submitted', 'delivered']);
    (async () => {
      for (const status of statuses) {
        await sleep(30);
        const ev = { message_uuid: uuid, to: b.to, from: b.from, timestamp: new Date().toISOString(), status, channel: b.channel };
        if (status === 'rejected' || status === 'undeliverable') {
          const code = s.errorCode ?? 1330;
          ev.error = { type: `https://developer.vonage.com/api-errors/messages#${code}`, title: String(code), detail: 'scripted failure', instance: randomUUID() };
        }
        await this.postSigned(b.webhook_url, ev);
      }
    })();
  }

  signature(raw, { secret = this.signatureSecret, iat = Math.floor(Date.now() / 1000) } = {}) {
    return hs256Jwt(secret, { iat, jti: randomUUID(), iss: 'Vonage', payload_hash: createHash('sha256').update(raw).digest('hex'), api_key: this.apiKey, application_id: this.applicationId });
  }

  async postSigned(url, body, { sign = true, attempts = 5, ...opts } = {}) {
    const raw = JSON.stringify(body);
    const headers = { 'Content-Type': 'application/json' };
    if (sign) headers.Authorization = `Bearer ${this.signature(raw, opts)}`;
    return this.callback(url, { body: raw, headers, attempts });
  }
}
