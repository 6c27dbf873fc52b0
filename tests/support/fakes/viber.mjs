// A fake Viber REST Bot API following the documented formats
// (https://developers.viber.com/docs/api/rest-bot-api/):
//  - send: POST /pa/send_message with X-Viber-Auth-Token; body {"receiver","min_api_version",
//    "sender":{"name","avatar"},"tracking_data","type":"text"|"picture"|"video"|"file"|"url",...}
//    (text: text; picture: text (may be empty, <= 768) + media; video: media + size; file:
//    media + size + file_name; url: media). Viber answers HTTP 200 whatever happens, with
//    {"status","status_message","message_token","chat_hostname"}; status 0 is ok, the others
//    are the error codes table (2 invalidAuthToken, 3 badData, 4 missingData, 6
//    receiverNotSubscribed, 12 tooManyRequests, ...).
//  - message_token is a 64-bit JSON *number* (e.g. 5741311803571721087): the fake writes it as
//    such, above 2^53, so a client that goes through a double loses it.
//  - callbacks to the bot's webhook: {"event":"delivered"|"seen"|"failed"(+"desc"),"timestamp",
//    "message_token","user_id"}; {"event":"message","timestamp","chat_hostname","message_token",
//    "sender":{"id","name",...},"message":{"type","text",...}}; {"event":"webhook",...} (the
//    check set_webhook makes), each signed X-Viber-Content-Signature = hex
//    HMAC-SHA256(auth token, raw body). Viber retries a callback until it gets a 200.
//
//   const vb = await FakeViber.start({ token });
//   vb.webhookUrl = herald.base + '/providers/vb/webhook';
//   vb.script(user, { status: 6 })                 // refuse at send
//   vb.script(user, { fail: 'reason' })            // accepted, then a failed callback
//   vb.script(user, [{ status: 12 }, {}])          // per attempt; the last repeats
//   vb.script(user, { silent: true })              // accepted, no callbacks
import { createHmac, randomBytes } from 'node:crypto';
import { FakeServer, sleep } from './base.mjs';

export const viberSignature = (token, raw) => createHmac('sha256', token).update(raw).digest('hex');

const STATUS_MESSAGES = {
  0: 'ok', 1: 'invalidUrl', 2: 'invalidAuthToken', 3: 'badData', 4: 'missingData',
  5: 'receiverNotRegistered', 6: 'receiverNotSubscribed', 7: 'publicAccountBlocked',
  8: 'publicAccountNotFound', 9: 'publicAccountSuspended', 10: 'webhookNotSet',
  11: 'receiverNoSuitableDevice', 12: 'tooManyRequests', 13: 'apiVersionNotSupported',
  14: 'incompatibleWithVersion',
};

// A message token: 19 decimal digits, above 2^53 and below 2^63.
const newToken = () => (10n ** 18n + BigInt(`0x${randomBytes(8).toString('hex')}`) % (8n * 10n ** 18n)).toString();
// A subscriber id as Viber gives them: base64 of 16 bytes ("jc9HsWTZ2Yf2NkRZ8KcNug==").
export const viberUserId = () => randomBytes(16).toString('base64');

// JSON text with the token written as a number, not a string.
function withToken(obj, token) {
  return JSON.stringify({ ...obj, message_token: '__TOKEN__' }).replace('"__TOKEN__"', token);
}

export class FakeViber extends FakeServer {
  static async start(options) {
    const f = new FakeViber(options);
    return f.listen((req, res, rec) => f.handle(req, res, rec));
  }

  constructor({ token }) {
    super('fake-viber');
    this.token = token;
    this.scripts = new Map();
    this.sent = []; // {token, body} of every accepted message
    this.webhookUrl = null;
  }

  script(user, s) { this.scripts.set(user, Array.isArray(s) ? [...s] : [s]); return this; }
  nextScript(user) {
    const list = this.scripts.get(user);
    if (!list || list.length === 0) return {};
    return list.length > 1 ? list.shift() : list[0];
  }
  requestsTo(user) { return this.requests.filter((r) => r.path === '/pa/send_message' && r.json?.receiver === user); }

  answer(res, status, extra = {}) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (status !== 0) return res.end(JSON.stringify({ status, status_message: STATUS_MESSAGES[status] ?? 'generalError', ...extra }));
    res.end(withToken({ status: 0, status_message: 'ok', chat_hostname: 'SN-CHAT-01_', ...extra }, extra.message_token));
  }

  // The request's problems as Viber reports them: 3 badData (not JSON, wrong types), 4
  // missingData (a required field absent).
  check(b) {
    if (b === undefined || typeof b !== 'object' || Array.isArray(b)) return 3;
    if (!b.receiver || !b.type || !b.sender?.name) return 4;
    if (typeof b.sender.name !== 'string' || b.sender.name.length > 28) return 3;
    switch (b.type) {
      case 'text': return typeof b.text === 'string' && b.text.length > 0 ? 0 : 4;
      case 'picture':
        if (typeof b.text !== 'string' || !b.media) return 4;
        return b.text.length <= 768 ? 0 : 3;
      case 'video': return b.media && Number.isInteger(b.size) ? 0 : 4;
      case 'file': return b.media && Number.isInteger(b.size) && b.file_name ? 0 : 4;
      case 'url': return b.media ? 0 : 4;
      default: return 3;
    }
  }

  async handle(req, res, rec) {
    if (rec.method !== 'POST' || rec.path !== '/pa/send_message') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('Not found');
    }
    if (rec.headers['x-viber-auth-token'] !== this.token) return this.answer(res, 2);
    const problem = this.check(rec.json);
    if (problem !== 0) return this.answer(res, problem);
    const user = rec.json.receiver;
    const s = this.nextScript(user);
    if (s.status) return this.answer(res, s.status);
    const token = newToken();
    this.sent.push({ token, body: rec.json });
    this.answer(res, 0, { message_token: token });
    if (s.silent) return;
    (async () => {
      await sleep(30);
      if (s.fail) {
        await this.event('failed', token, user, { desc: s.fail });
        return;
      }
      await this.event('delivered', token, user);
      await sleep(30);
      await this.event('seen', token, user);
    })();
  }

  // A delivered/seen/failed callback for a message.
  event(event, token, user, extra = {}, options = {}) {
    return this.post(withToken({ event, timestamp: Date.now(), user_id: user, ...extra }, token), options);
  }

  // A message from a subscriber to the bot.
  inbound(user, text, options = {}) {
    const raw = withToken({
      event: 'message', timestamp: Date.now(), chat_hostname: 'SN-CHAT-01_',
      sender: { id: user, name: 'A Subscriber', avatar: 'https://example.com/a.jpg', language: 'en', country: 'GB', api_version: 10 },
      message: { type: 'text', text, tracking_data: 'tracking data' }, silent: false,
    }, newToken());
    return this.post(raw, options);
  }

  // The check Viber makes when set_webhook is called.
  webhookCheck(options = {}) {
    return this.post(withToken({ event: 'webhook', timestamp: Date.now(), chat_hostname: 'SN-CHAT-01_' }, newToken()), options);
  }

  post(raw, { sign = true, key = this.token, attempts = 5 } = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (sign) headers['X-Viber-Content-Signature'] = viberSignature(key, raw);
    return this.callback(this.webhookUrl, { body: raw, headers, attempts });
  }
}
