// A scriptable SMS centre (SMSC) for the SMPP connector tests and benchmark, built on the `smpp`
// npm package (https://www.npmjs.com/package/smpp, version pinned in tests/package.json) and
// listening on 127.0.0.1 only.
//
//   const smsc = await Smsc.start({ idFormat: 'hex' });   // ids 00A1B2.. in submit_sm_resp
//   smsc.port
//   smsc.throttle(3)                     // the next 3 submit_sm get ESME_RTHROTTLED (0x58)
//   smsc.rule('447700900001', { stat: 'UNDELIV', err: '012' })  // receipts for that number
//   smsc.rule('447700900002', { early: true })  // receipt sent BEFORE the submit_sm_resp
//   smsc.rule('447700900003', { drop: true })   // first submit: connection dropped, no resp
//   smsc.dropAll()                       // drop every connection now
//   await smsc.mo({ from, to, text })    // a mobile-originated deliver_sm (GSM-7 or UCS-2)
//   await smsc.mo({ from, to, text, udh: [0x00, 0x03, ref, total, seq] })  // one part of a
//                                        // concatenated MO: UDH (esm_class 0x40) before the text
//   await smsc.mo({ from, to, text, sar: { ref, total, seq } })  // the same with the SAR TLVs
//   await smsc.waitFor(() => smsc.submits.length === 3, 5000, 'three submits')
//
// Receipts: for every accepted submit_sm with registered_delivery & 1, a deliver_sm with
// esm_class 0x04, the SMPP 3.4 Appendix B text "id:… sub:001 dlvrd:001 submit date:… done
// date:… stat:… err:… text:…" and (unless { tlv: false }) the receipted_message_id and
// message_state TLVs. `receiptIdFormat: 'decimal'` writes the id in the receipt in decimal
// whatever the submit_sm_resp said (Kannel's msg-id-type case).
//
// Stand-alone (the benchmark): node tests/support/smsc.mjs --port 2775 --stats-port 2776
// serves GET /stats (JSON counters per system_id) until SIGTERM.
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import smpp from 'smpp';

const STAT_STATE = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8, ENROUTE: 1 };

function smppDate(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export class Smsc {
  constructor({
    idFormat = 'decimal', receiptIdFormat = 'same', tlv = true, receiptDelayMs = 10,
    systemId, password, receipts = true,
  } = {}) {
    this.idFormat = idFormat;           // 'decimal' | 'hex' (upper case, leading zeros)
    this.receiptIdFormat = receiptIdFormat;  // 'same' | 'decimal'
    this.tlv = tlv;
    this.receiptDelayMs = receiptDelayMs;
    this.systemId = systemId;           // when set, binds with another system_id/password fail
    this.password = password;
    this.receipts = receipts;
    this.nextId = 1000;
    this.throttleLeft = 0;
    this.throttleStatus = 0x58;
    this.rules = new Map();             // destination_addr -> {stat, err, early, drop, status}
    this.sessions = new Set();
    this.binds = [];                    // {command, system_id, password, system_type}
    this.submits = [];                  // every submit_sm received (throttled ones too)
    this.accepted = [];                 // submits answered with ESME_ROK: {...submit, message_id}
    this.deliverResps = [];             // {kind: 'receipt'|'mo', command_status, id}
    this.enquireLinks = 0;
    this.connections = 0;
    this.stats = new Map();             // system_id -> {submits, accepted, throttled, receipts_sent, receipts_acked}
    this.waiters = new Set();
    this.server = null;
    this.port = null;
  }

  static async start(options = {}, port = 0) {
    const smsc = new Smsc(options);
    await smsc.listen(port);
    return smsc;
  }

  statsFor(systemId) {
    if (!this.stats.has(systemId)) {
      this.stats.set(systemId, { submits: 0, accepted: 0, throttled: 0, receipts_sent: 0, receipts_acked: 0, first_submit_ms: null, last_submit_ms: null, last_receipt_ack_ms: null });
    }
    return this.stats.get(systemId);
  }

  listen(port) {
    this.server = smpp.createServer({}, (session) => this.onSession(session));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve();
      });
    });
  }

  notify() { for (const w of [...this.waiters]) w(); }

  // Resolves with predicate()'s truthy value; rejects after timeoutMs.
  waitFor(predicate, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = predicate(); } catch (e) { done(); reject(e); return; }
        if (v) { done(); resolve(v); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`smsc: ${what} not seen in ${timeoutMs} ms (submits ${this.submits.length}, accepted ${this.accepted.length}, binds ${this.binds.length})`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  throttle(n, status = 0x58) { this.throttleLeft = n; this.throttleStatus = status; }
  rule(destination, r) { this.rules.set(destination, { ...r }); }

  // Every bound session that can take deliver_sm (transceiver or receiver).
  receivers() { return [...this.sessions].filter((s) => s.bound && s.bindCommand !== 'bind_transmitter'); }
  bound() { return [...this.sessions].filter((s) => s.bound); }

  dropAll() {
    for (const s of this.sessions) s.destroy();
  }

  formatId(n) {
    if (this.idFormat === 'hex') return n.toString(16).toUpperCase().padStart(8, '0');
    return String(n);
  }

  onSession(session) {
    this.connections++;
    this.sessions.add(session);
    session.bound = false;
    session.systemId = '';
    session.on('close', () => { this.sessions.delete(session); this.notify(); });
    session.on('error', () => { /* a dropped peer; 'close' follows */ });
    const onBind = (command) => (pdu) => {
      this.binds.push({ command, system_id: pdu.system_id, password: pdu.password, system_type: pdu.system_type });
      if ((this.systemId && pdu.system_id !== this.systemId) || (this.password !== undefined && pdu.password !== this.password)) {
        session.send(pdu.response({ command_status: 0x0E }));
      } else {
        session.bound = true;
        session.bindCommand = command;
        session.systemId = pdu.system_id;
        session.send(pdu.response({ system_id: 'fake-smsc' }));
      }
      this.notify();
    };
    for (const c of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) session.on(c, onBind(c));
    session.on('enquire_link', (pdu) => { this.enquireLinks++; session.send(pdu.response()); this.notify(); });
    session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
    session.on('submit_sm', (pdu) => this.onSubmit(session, pdu));
  }

  onSubmit(session, pdu) {
    const sm = pdu.short_message ?? {};
    const udh = (sm.udh ?? []).find((ie) => ie[0] === 0x00 && ie[1] === 0x03);
    const submit = {
      system_id: session.systemId,
      source_addr: pdu.source_addr, source_addr_ton: pdu.source_addr_ton, source_addr_npi: pdu.source_addr_npi,
      destination_addr: pdu.destination_addr, dest_addr_ton: pdu.dest_addr_ton, dest_addr_npi: pdu.dest_addr_npi,
      esm_class: pdu.esm_class, data_coding: pdu.data_coding, registered_delivery: pdu.registered_delivery,
      message: typeof sm.message === 'string' ? sm.message : String(sm.message ?? ''),
      concat: udh ? { ref: udh[2], total: udh[3], seq: udh[4] } : null,
      at: Date.now(),
    };
    this.submits.push(submit);
    const st = this.statsFor(session.systemId);
    st.submits++;
    if (st.first_submit_ms === null) st.first_submit_ms = Date.now();
    if (!session.bound || session.bindCommand === 'bind_receiver') {
      session.send(pdu.response({ command_status: 0x04 }));
      this.notify();
      return;
    }
    const rule = this.rules.get(pdu.destination_addr) ?? {};
    if (rule.drop) {
      delete rule.drop;  // once
      submit.dropped = true;
      session.destroy();
      this.notify();
      return;
    }
    if (this.throttleLeft > 0) {
      this.throttleLeft--;
      st.throttled++;
      submit.status = this.throttleStatus;
      session.send(pdu.response({ command_status: this.throttleStatus }));
      this.notify();
      return;
    }
    if (rule.status) {
      submit.status = rule.status;
      session.send(pdu.response({ command_status: rule.status }));
      this.notify();
      return;
    }
    const n = this.nextId++;
    const messageId = this.formatId(n);
    submit.status = 0;
    submit.message_id = messageId;
    submit.n = n;
    this.accepted.push(submit);
    st.accepted++;
    st.last_submit_ms = Date.now();
    const wantsReceipt = this.receipts && (pdu.registered_delivery & 0x01) && !rule.noReceipt;
    if (rule.early && wantsReceipt) {
      // The receipt overtakes the response: Herald sees deliver_sm before submit_sm_resp.
      this.sendReceipt(session, submit, rule);
      setTimeout(() => { session.send(pdu.response({ message_id: messageId })); this.notify(); }, rule.respDelayMs ?? 150);
      return;
    }
    session.send(pdu.response({ message_id: messageId }));
    if (wantsReceipt) {
      if (this.receiptDelayMs > 0) setTimeout(() => this.sendReceipt(session, submit, rule), this.receiptDelayMs);
      else setImmediate(() => this.sendReceipt(session, submit, rule));
    }
    this.notify();
  }

  sendReceipt(origin, submit, rule = {}) {
    // A receipt goes back on the session the message came in on, or (transmitter) on a
    // receiver session of the same system_id.
    const target = origin.bound && origin.bindCommand !== 'bind_transmitter' && !origin.socket.destroyed
      ? origin
      : this.receivers().find((s) => s.systemId === submit.system_id);
    if (!target) return;
    const stat = rule.stat ?? 'DELIVRD';
    const err = rule.err ?? (stat === 'DELIVRD' ? '000' : '001');
    const textId = this.receiptIdFormat === 'decimal' ? String(submit.n) : submit.message_id;
    const now = smppDate();
    const text = `id:${textId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${now} done date:${now} stat:${stat} err:${err} text:${submit.message.slice(0, 20).replace(/[^ -~]/g, '.')}`;
    const fields = {
      source_addr: submit.destination_addr, destination_addr: submit.source_addr,
      esm_class: 0x04, data_coding: 0, short_message: Buffer.from(text, 'latin1'),
    };
    if (this.tlv) {
      fields.receipted_message_id = submit.message_id;
      fields.message_state = STAT_STATE[stat] ?? 7;
    }
    const st = this.statsFor(submit.system_id);
    st.receipts_sent++;
    target.deliver_sm(fields, (resp) => {
      this.deliverResps.push({ kind: 'receipt', command_status: resp.command_status, id: submit.message_id });
      if (resp.command_status === 0) {
        st.receipts_acked++;
        st.last_receipt_ack_ms = Date.now();
      }
      this.notify();
    });
  }

  // A mobile-originated message to the first receiving session (of `systemId` if given).
  // Resolves with the deliver_sm_resp command_status.
  // `udh`: the information elements (without the length octet) to put before the text, with
  // esm_class 0x40; `sar`: {ref, total, seq} as sar_msg_ref_num / sar_total_segments /
  // sar_segment_seqnum TLVs.
  mo({ from, to, text, ucs2 = false, systemId, udh, sar } = {}) {
    const target = this.receivers().find((s) => !systemId || s.systemId === systemId);
    if (!target) return Promise.reject(new Error('smsc: no bound session to send an MO to'));
    let short_message = ucs2 ? Buffer.from(text, 'utf16le').swap16() : Buffer.from(text, 'latin1');
    if (udh) short_message = Buffer.concat([Buffer.from([udh.length, ...udh]), short_message]);
    const fields = { source_addr: from, destination_addr: to, esm_class: udh ? 0x40 : 0, data_coding: ucs2 ? 8 : 0, short_message };
    if (sar) Object.assign(fields, { sar_msg_ref_num: sar.ref, sar_total_segments: sar.total, sar_segment_seqnum: sar.seq });
    return new Promise((resolve) => {
      target.deliver_sm(fields, (resp) => {
        this.deliverResps.push({ kind: 'mo', command_status: resp.command_status });
        this.notify();
        resolve(resp.command_status);
      });
    });
  }

  close() {
    for (const s of this.sessions) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// Stand-alone mode for bench/smpp_bench.sh.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const smsc = await Smsc.start({ receiptDelayMs: Number(arg('receipt-delay-ms', '0')), idFormat: arg('id-format', 'decimal') }, Number(arg('port', '2775')));
  const stats = createHttpServer((req, res) => {
    if (req.url === '/reset') smsc.stats.clear();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ connections: smsc.connections, bound: smsc.bound().map((s) => `${s.systemId}/${s.bindCommand}`), stats: Object.fromEntries(smsc.stats) }));
  });
  // The bench never keeps per-message records.
  smsc.submits = { push() {}, get length() { return 0; } };
  smsc.accepted = { push() {}, get length() { return 0; } };
  smsc.deliverResps = { push() {} };
  stats.listen(Number(arg('stats-port', '2776')), '127.0.0.1', () => {
    console.log(`smsc: listening on 127.0.0.1:${smsc.port}, stats on :${stats.address().port}`);
  });
  const stop = () => { stats.close(); smsc.close().then(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
