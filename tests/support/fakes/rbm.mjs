// A fake Google RCS Business Messaging API following Google's documented formats:
//  - send: POST /v1/phones/{+E.164}/agentMessages?messageId=..&agentId=.., Bearer token, body an
//    AgentMessage; 200 echoes it with "name": "phones/{msisdn}/agentMessages/{messageId}"
//    https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/phones.agentMessages/create
//  - a user that is not RCS-capable: 404 {"error":{"code":404,"message":"Requested entity was
//    not found.","status":"NOT_FOUND"}} (Google's error model, https://cloud.google.com/apis/design/errors)
//  - events and user messages posted to the webhook as {"message":{"attributes","data": base64
//    JSON,"messageId","publishTime"},"subscription"} with X-Goog-Signature =
//    base64(HMAC-SHA512(clientToken, decoded data)); webhook setup posts {"clientToken","secret"}
//    and expects the secret back:
//    https://developers.google.com/business-communications/rcs-business-messaging/guides/integrate/webhooks
//    event bodies: https://developers.google.com/business-communications/rcs-business-messaging/reference/rest/v1/UserEvent
//    and .../UserMessage
import { createHmac, randomUUID } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';

export const googSignature = (clientToken, data) => createHmac('sha512', clientToken).update(data).digest('base64');

export class FakeRbm extends FakeServer {
  static async start(options) {
    const f = new FakeRbm(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ token, clientToken, agentId }) {
    super('fake-rbm');
    Object.assign(this, { token, clientToken, agentId });
    this.notCapable = new Set();
    this.silent = new Set();
    this.webhookUrl = null;
  }

  requestsTo(msisdn) { return this.requests.filter((r) => r.path === `/v1/phones/+${msisdn}/agentMessages`); }

  async handle(req, res, rec) {
    const m = rec.path.match(/^\/v1\/phones\/(\+\d+)\/agentMessages$/);
    if (rec.method !== 'POST' || !m) return this.json(res, 404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
    if (rec.headers.authorization !== `Bearer ${this.token}`) {
      return this.json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    }
    const msisdn = m[1];
    const messageId = rec.query.messageId;
    if (!messageId || !rec.json?.contentMessage) {
      return this.json(res, 400, { error: { code: 400, message: 'Invalid argument', status: 'INVALID_ARGUMENT' } });
    }
    if (this.notCapable.has(msisdn.slice(1))) {
      return this.json(res, 404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
    }
    this.json(res, 200, { name: `phones/${msisdn}/agentMessages/${messageId}`, sendTime: new Date().toISOString(), contentMessage: rec.json.contentMessage });
    if (this.silent.has(msisdn.slice(1))) return;
    (async () => {
      for (const eventType of ['DELIVERED', 'READ']) {
        await sleep(30);
        await this.postEvent({ senderPhoneNumber: msisdn, eventType, eventId: randomUUID(), messageId, sendTime: new Date().toISOString(), agentId: this.agentId });
      }
    })();
  }

  async postEvent(event, { token = this.clientToken, sign = true, attempts = 5 } = {}) {
    const data = Buffer.from(JSON.stringify(event));
    const body = JSON.stringify({
      message: { attributes: { business_id: this.agentId }, data: data.toString('base64'), messageId: String(Date.now()), publishTime: new Date().toISOString() },
      subscription: 'projects/rbm-agent/subscriptions/rbm-agent-sub',
    });
    const headers = { 'Content-Type': 'application/json' };
    if (sign) headers['X-Goog-Signature'] = googSignature(token, data);
    return this.callback(this.webhookUrl, { body, headers, attempts });
  }

  userMessage(from, text) {
    return this.postEvent({ senderPhoneNumber: `+${from}`, messageId: randomUUID(), sendTime: new Date().toISOString(), text, agentId: this.agentId });
  }
}
