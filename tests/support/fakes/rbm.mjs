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
//  - with `publicKey` (and `clientEmail`): Google's OAuth 2.0 token endpoint for service
//    accounts at POST /token (https://developers.google.com/identity/protocols/oauth2/service-account#httprest):
//    a form body grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>; the
//    assertion's RS256 signature is verified with `publicKey`, its header must be
//    {"alg":"RS256","typ":"JWT"} and its claims {iss: clientEmail, scope: the RBM scope,
//    aud: this endpoint's URL, iat: now (±60 s), exp: iat + 3600}; a bad one gets 400
//    {"error":"invalid_grant","error_description"}. A good one gets
//    {"access_token","expires_in": tokenLifetimeS,"token_type":"Bearer"}; sends then accept
//    that token until it expires (or revokeTokens()). `tokenDown` answers 503 instead.
import { createHmac, createPublicKey, randomUUID, verify } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';

export const RBM_SCOPE = 'https://www.googleapis.com/auth/rcsbusinessmessaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export const googSignature = (clientToken, data) => createHmac('sha512', clientToken).update(data).digest('base64');

export class FakeRbm extends FakeServer {
  static async start(options) {
    const f = new FakeRbm(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ token, clientToken, agentId, publicKey, clientEmail, tokenLifetimeS = 3600 }) {
    super('fake-rbm');
    Object.assign(this, { token, clientToken, agentId, clientEmail, tokenLifetimeS });
    this.publicKey = publicKey ? createPublicKey(publicKey) : null;
    this.notCapable = new Set();
    this.silent = new Set();
    this.unauthorized = new Set(); // numbers whose sends get 401 whatever the token
    this.webhookUrl = null;
    this.issued = new Map(); // access token -> expiry (ms)
    this.tokenDown = false;
    this.tokenAnswers = []; // {status, error?, token?} of every POST /token
  }

  get tokenUri() { return `${this.base}/token`; }
  requestsTo(msisdn) { return this.requests.filter((r) => r.path === `/v1/phones/+${msisdn}/agentMessages`); }
  tokenRequests() { return this.requests.filter((r) => r.path === '/token'); }
  revokeTokens() { this.issued.clear(); }

  authorized(header) {
    if (this.token && header === `Bearer ${this.token}`) return true;
    const m = /^Bearer (\S+)$/.exec(header ?? '');
    const expiry = m && this.issued.get(m[1]);
    return Boolean(expiry && expiry > Date.now());
  }

  // The checks of Google's token endpoint; returns an error description or null.
  checkAssertion(rec) {
    if (!String(rec.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return 'not form-encoded';
    const form = new URLSearchParams(rec.raw);
    if (form.get('grant_type') !== JWT_BEARER) return `grant_type ${form.get('grant_type')}`;
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return 'assertion is not a JWT';
    const [h, p, sig] = parts;
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return 'assertion header or claims are not JSON';
    }
    if (header.alg !== 'RS256' || (header.typ !== undefined && header.typ !== 'JWT')) return `header ${JSON.stringify(header)}`;
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(sig, 'base64url'))) return 'Invalid JWT Signature.';
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.clientEmail) return `iss ${claims.iss}`;
    if (claims.scope !== RBM_SCOPE) return `scope ${claims.scope}`;
    if (claims.aud !== this.tokenUri) return `aud ${claims.aud}`;
    if (!Number.isInteger(claims.iat) || Math.abs(claims.iat - now) > 60) return `iat ${claims.iat}`;
    if (claims.exp !== claims.iat + 3600) return `exp ${claims.exp} (iat ${claims.iat})`;
    this.lastClaims = claims;
    return null;
  }

  handleToken(res, rec) {
    if (this.tokenDown) {
      this.tokenAnswers.push({ status: 503 });
      return this.json(res, 503, { error: 'unavailable', error_description: 'The service is currently unavailable.' });
    }
    const error = this.checkAssertion(rec);
    if (error) {
      this.tokenAnswers.push({ status: 400, error });
      return this.json(res, 400, { error: 'invalid_grant', error_description: error });
    }
    const token = `ya29.fake-${randomUUID()}`;
    this.issued.set(token, Date.now() + this.tokenLifetimeS * 1000);
    this.tokenAnswers.push({ status: 200, token });
    this.json(res, 200, { access_token: token, expires_in: this.tokenLifetimeS, token_type: 'Bearer' });
  }

  async handle(req, res, rec) {
    if (rec.method === 'POST' && rec.path === '/token' && this.publicKey) return this.handleToken(res, rec);
    const m = rec.path.match(/^\/v1\/phones\/(\+\d+)\/agentMessages$/);
    if (rec.method !== 'POST' || !m) return this.json(res, 404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
    if (!this.authorized(rec.headers.authorization) || this.unauthorized.has(m[1].slice(1))) {
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
