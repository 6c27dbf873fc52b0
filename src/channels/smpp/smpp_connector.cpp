#include "channels/smpp/smpp_connector.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include "channels/smpp/mapping.hpp"
#include "channels/smpp/pdu.hpp"
#include "channels/smpp/reassembly.hpp"
#include "channels/smpp/text.hpp"
#include "core/log.hpp"

namespace herald::channels::smpp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Strand = asio::strand<asio::any_io_executor>;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kInitialBackoff{250};
// A receipt that overtook our processing of its submit_sm_resp is retried for ~2 s.
constexpr int kReceiptRetryDelaysMs[] = {50, 100, 200, 300, 400, 450, 500};
constexpr size_t kMaxDeliverInFlight = 512;   // deliver_sm being recorded at once per session
constexpr size_t kMaxSecondaryIds = 200000;   // ids of later parts of multi-part messages
constexpr size_t kReadChunk = 64 * 1024;

enum class Role { kTransceiver, kTransmitter, kReceiver };

uint32_t BindCommand(Role r) {
  switch (r) {
    case Role::kTransceiver: return cmd::kBindTransceiver;
    case Role::kTransmitter: return cmd::kBindTransmitter;
    case Role::kReceiver: return cmd::kBindReceiver;
  }
  return cmd::kBindTransceiver;
}
const char* RoleName(Role r) {
  switch (r) {
    case Role::kTransceiver: return "transceiver";
    case Role::kTransmitter: return "transmitter";
    case Role::kReceiver: return "receiver";
  }
  return "?";
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A request waiting for its response: the waiter sleeps on `timer`; the reader fills `resp`
// (or the session's end sets `lost`) and cancels it.
struct Pending {
  explicit Pending(const Strand& s) : timer(s) {}
  asio::steady_timer timer;
  std::optional<Pdu> resp;
  bool lost = false;
};

// A Send() waiting for a window slot.
struct SlotWaiter {
  explicit SlotWaiter(const Strand& s) : timer(s) {}
  asio::steady_timer timer;
  bool granted = false;
};

}  // namespace

// One TCP connection and its bind. Owned by shared_ptr: the session loop, its reader and
// writer each hold it, so it outlives whichever ends last. Strand-only.
struct Conn {
  Conn(const Strand& s, Role r) : socket(s), idle(s), reader_wake(s), role(r) {}
  tcp::socket socket;
  asio::steady_timer idle;         // the enquire_link pause; cancelled when the session ends
  asio::steady_timer reader_wake;  // reader waits here while too many deliver_sm are open
  Role role;
  bool bound = false;
  bool closed = false;
  bool writing = false;
  bool close_when_flushed = false;
  std::string out;  // encoded PDUs not yet handed to the socket
  std::unordered_map<uint32_t, std::shared_ptr<Pending>> pending;
  size_t deliver_in_flight = 0;
};

struct SmppConnector::Impl : std::enable_shared_from_this<SmppConnector::Impl> {
  Impl(std::string n, SmppConfig c, const ConnectorContext& ctx)
      : name(std::move(n)),
        config(std::move(c)),
        strand(asio::make_strand(ctx.executor)),
        sink(ctx.sink),
        clock(ctx.clock != nullptr ? ctx.clock : &SystemClock::Instance()),
        reassembler(static_cast<size_t>(config.mo_reassembly_max_messages),
                    config.mo_reassembly_timeout_ms),
        sweep(strand) {}

  const std::string name;
  const SmppConfig config;
  Strand strand;
  ProviderEventSink* sink;
  const Clock* clock;

  // Strand-only state.
  bool started = false;
  bool stopping = false;
  uint32_t next_seq = 1;
  uint8_t next_reference = 1;
  std::shared_ptr<Conn> tx;  // the bound session that submits (transceiver or transmitter)
  std::vector<std::shared_ptr<Conn>> conns;  // every open connection (for Stop)
  std::vector<asio::steady_timer*> backoff_timers;
  int inflight = 0;  // submit_sm without a response, on `tx`
  std::deque<std::shared_ptr<SlotWaiter>> waiters;
  // Later parts of multi-part messages: their SMSC id -> the first part's id.
  std::unordered_map<std::string, std::string> secondary;
  std::deque<std::string> secondary_order;
  uint64_t ambiguous_submits = 0;
  // Parts of concatenated MO messages (acknowledged, held in memory until the message is
  // whole or times out), and the incomplete ones waiting to be recorded.
  MoReassembler reassembler;
  std::deque<MoMessage> incomplete;
  asio::steady_timer sweep;  // the reassembly timeout loop sleeps here

  uint32_t NextSeq() {
    const uint32_t s = next_seq;
    next_seq = next_seq >= 0x7FFFFFFF ? 1 : next_seq + 1;
    return s;
  }

  bool TxReady() const { return tx && tx->bound && !tx->closed; }

  // ---- window ------------------------------------------------------------------------------

  void Grant() {
    while (TxReady() && inflight < config.window && !waiters.empty()) {
      auto w = waiters.front();
      waiters.pop_front();
      w->granted = true;
      ++inflight;
      w->timer.cancel();
    }
  }
  void Release() {
    --inflight;
    Grant();
  }

  // Waits (FIFO) until a bound session has a free slot in its window, or until `deadline`
  // or Stop(): false then.
  static asio::awaitable<bool> Acquire(std::shared_ptr<Impl> self,
                                       std::chrono::steady_clock::time_point deadline) {
    if (self->stopping) co_return false;
    if (self->TxReady() && self->inflight < self->config.window && self->waiters.empty()) {
      ++self->inflight;
      co_return true;
    }
    auto w = std::make_shared<SlotWaiter>(self->strand);
    w->timer.expires_at(deadline);
    self->waiters.push_back(w);
    co_await w->timer.async_wait(kUseTuple);
    if (w->granted) co_return true;
    auto it = std::find(self->waiters.begin(), self->waiters.end(), w);
    if (it != self->waiters.end()) self->waiters.erase(it);
    co_return false;
  }

  // ---- writing -----------------------------------------------------------------------------

  void Enqueue(const std::shared_ptr<Conn>& c, const Pdu& pdu) {
    if (c->closed) return;
    c->out += Encode(pdu);
    if (!c->writing) {
      c->writing = true;
      auto task = WriteLoop(shared_from_this(), c);
      asio::co_spawn(strand, std::move(task), [](std::exception_ptr e) {
        if (e) spdlog::error("smpp: write loop failed");
      });
    }
  }

  // Hands everything queued to the socket, coalescing PDUs queued meanwhile into one write.
  static asio::awaitable<void> WriteLoop(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c) {
    std::string buf;
    while (!c->closed && !c->out.empty()) {
      buf.clear();
      std::swap(buf, c->out);
      auto [ec, n] = co_await asio::async_write(c->socket, asio::buffer(buf), kUseTuple);
      (void)n;
      if (ec) {
        if (!c->closed) {
          spdlog::warn("smpp {}: write failed: {}", self->name, ec.message());
        }
        self->Close(c);
        break;
      }
    }
    c->writing = false;
    if (c->close_when_flushed) self->Close(c);
  }

  // ---- requests ----------------------------------------------------------------------------

  // Sends `pdu` (its sequence number assigned here) and waits for the response with the same
  // sequence number. Errors: kUnavailable (the session ended first), kDeadlineExceeded.
  static asio::awaitable<Result<Pdu>> Request(std::shared_ptr<Impl> self,
                                              std::shared_ptr<Conn> c, Pdu pdu,
                                              std::chrono::milliseconds timeout) {
    if (c->closed) co_return MakeError(Errc::kUnavailable, "SMPP session lost");
    pdu.sequence_number = self->NextSeq();
    const uint32_t seq = pdu.sequence_number;
    auto p = std::make_shared<Pending>(self->strand);
    p->timer.expires_after(timeout);
    c->pending[seq] = p;
    self->Enqueue(c, pdu);
    co_await p->timer.async_wait(kUseTuple);
    c->pending.erase(seq);
    if (p->resp) co_return std::move(*p->resp);
    if (p->lost || c->closed) co_return MakeError(Errc::kUnavailable, "SMPP session lost");
    co_return MakeError(Errc::kDeadlineExceeded,
                        CommandName(pdu.command_id) + ": no response in " +
                            std::to_string(timeout.count()) + " ms");
  }

  void Close(const std::shared_ptr<Conn>& c) {
    if (c->closed) return;
    c->closed = true;
    c->bound = false;
    boost::system::error_code ignored;
    c->socket.shutdown(tcp::socket::shutdown_both, ignored);
    c->socket.close(ignored);
    c->idle.cancel();
    c->reader_wake.cancel();
    for (auto& [seq, p] : c->pending) {
      (void)seq;
      p->lost = true;
      p->timer.cancel();
    }
    if (tx == c) tx.reset();
    std::erase(conns, c);
  }

  // ---- the session -------------------------------------------------------------------------

  // Keeps one session of `role` up until Stop().
  static asio::awaitable<void> RunSession(std::shared_ptr<Impl> self, Role role) {
    auto backoff = kInitialBackoff;
    const auto max_backoff = std::chrono::milliseconds(self->config.reconnect_max_s * 1000);
    asio::steady_timer pause(self->strand);
    self->backoff_timers.push_back(&pause);
    while (!self->stopping) {
      const bool bound = co_await ConnectAndBind(self, role);
      if (bound) backoff = kInitialBackoff;
      if (self->stopping) break;
      pause.expires_after(backoff);
      co_await pause.async_wait(kUseTuple);
      backoff = std::min(backoff * 2, max_backoff);
    }
    std::erase(self->backoff_timers, &pause);
  }

  // One connection: connect, bind, then enquire_link until it ends. True if it was bound.
  static asio::awaitable<bool> ConnectAndBind(std::shared_ptr<Impl> self, Role role) {
    using namespace asio::experimental::awaitable_operators;
    const SmppConfig& cfg = self->config;
    auto c = std::make_shared<Conn>(self->strand, role);
    self->conns.push_back(c);

    tcp::resolver resolver(self->strand);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port), kUseTuple);
    if (rec || self->stopping) {
      if (rec) spdlog::warn("smpp {}: cannot resolve {}: {}", self->name, cfg.host, rec.message());
      self->Close(c);
      co_return false;
    }
    asio::steady_timer connect_deadline(self->strand);
    connect_deadline.expires_after(std::chrono::milliseconds(cfg.response_timeout_ms));
    auto connect = asio::async_connect(c->socket, endpoints, kUseTuple);
    auto deadline = connect_deadline.async_wait(kUseTuple);
    auto raced = co_await (std::move(connect) || std::move(deadline));
    if (raced.index() != 0 || std::get<0>(std::get<0>(raced)) || c->closed) {
      if (!self->stopping) {
        spdlog::warn("smpp {}: cannot connect to {}:{}{}", self->name, cfg.host, cfg.port,
                     raced.index() == 0 ? ": " + std::get<0>(std::get<0>(raced)).message()
                                        : std::string(": timed out"));
      }
      self->Close(c);
      co_return false;
    }
    boost::system::error_code ignored;
    c->socket.set_option(tcp::no_delay(true), ignored);

    auto reader = ReadLoop(self, c);
    asio::co_spawn(self->strand, std::move(reader), [](std::exception_ptr e) {
      if (e) spdlog::error("smpp: read loop failed");
    });

    Pdu bind;
    bind.command_id = BindCommand(role);
    bind.bind.system_id = cfg.system_id;
    bind.bind.password = cfg.password;
    bind.bind.system_type = cfg.system_type;
    bind.bind.interface_version = 0x34;
    const auto timeout = std::chrono::milliseconds(cfg.response_timeout_ms);
    auto resp = co_await Request(self, c, std::move(bind), timeout);
    if (!resp || resp->command_status != status::kOk) {
      if (!self->stopping) {
        if (!resp) {
          spdlog::warn("smpp {}: {} bind to {}:{} failed: {}", self->name, RoleName(role),
                       cfg.host, cfg.port, resp.error().message);
        } else {
          spdlog::error("smpp {}: {} bind to {}:{} as {} refused: {} {}", self->name,
                        RoleName(role), cfg.host, cfg.port, SanitizeForLog(cfg.system_id),
                        Hex32(resp->command_status), StatusName(resp->command_status));
        }
      }
      self->Close(c);
      co_return false;
    }
    if (self->stopping) {
      self->Close(c);
      co_return true;
    }
    c->bound = true;
    spdlog::info("smpp {}: bound as {} to {}:{} (system_id {})", self->name, RoleName(role),
                 cfg.host, cfg.port, SanitizeForLog(cfg.system_id));
    if (role != Role::kReceiver) {
      // The previous session's slots come back as its lost requests resume.
      self->tx = c;
      self->Grant();
    }

    // Liveness: enquire_link every enquire_link_s; no answer in time drops the session.
    const auto interval = std::chrono::seconds(cfg.enquire_link_s);
    while (!c->closed && !self->stopping) {
      c->idle.expires_after(interval);
      co_await c->idle.async_wait(kUseTuple);
      if (c->closed || self->stopping) break;
      Pdu el;
      el.command_id = cmd::kEnquireLink;
      auto r = co_await Request(self, c, std::move(el), timeout);
      if (!r && !c->closed) {
        spdlog::warn("smpp {}: enquire_link: {}; reconnecting", self->name, r.error().message);
        self->Close(c);
      }
    }
    if (!self->stopping) {
      spdlog::warn("smpp {}: {} session to {}:{} lost", self->name, RoleName(role), cfg.host,
                   cfg.port);
    }
    if (!c->close_when_flushed || !c->writing) self->Close(c);  // else: once unbind is written
    co_return true;
  }

  static asio::awaitable<void> ReadLoop(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c) {
    std::string buf;
    size_t start = 0;
    std::string chunk(kReadChunk, '\0');
    while (!c->closed) {
      auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(chunk), kUseTuple);
      if (ec || c->closed) break;
      buf.append(chunk.data(), n);
      while (!c->closed) {
        const std::string_view avail = std::string_view(buf).substr(start);
        const Frame f = PeekFrame(avail);
        if (f.status == FrameStatus::kNeedMore) break;
        if (f.status == FrameStatus::kBadLength) {
          spdlog::warn("smpp {}: invalid command_length {} from the SMSC; dropping the session",
                       self->name, f.header.command_length);
          self->Close(c);
          break;
        }
        const std::string_view bytes = avail.substr(0, f.header.command_length);
        start += f.header.command_length;
        self->OnPdu(c, f.header, bytes);
      }
      if (start > 0 && start * 2 >= buf.size()) {
        buf.erase(0, start);
        start = 0;
      }
      // Back-pressure: stop reading while too many deliver_sm are being recorded.
      while (!c->closed && c->deliver_in_flight >= kMaxDeliverInFlight) {
        c->reader_wake.expires_after(1s);
        co_await c->reader_wake.async_wait(kUseTuple);
      }
    }
    self->Close(c);
  }

  void OnPdu(const std::shared_ptr<Conn>& c, const Header& h, std::string_view bytes) {
    auto decoded = Decode(bytes);
    const bool is_resp = (h.command_id & cmd::kRespBit) != 0;
    if (!decoded) {
      spdlog::warn("smpp {}: malformed PDU from the SMSC: {}", name,
                   SanitizeForLog(decoded.error().message));
      if (!is_resp) {
        Enqueue(c, MakeGenericNack(h.sequence_number, IsKnownCommand(h.command_id)
                                                          ? status::kInvCmdLen
                                                          : status::kInvCmdId));
      } else if (h.command_id == cmd::kGenericNack || h.command_status != status::kOk) {
        // A failed response whose body did not parse still answers its request.
        Pdu p;
        p.command_id = h.command_id;
        p.command_status = h.command_status;
        p.sequence_number = h.sequence_number;
        Resolve(c, std::move(p));
      }
      return;
    }
    Pdu& p = *decoded;
    if (is_resp) {
      Resolve(c, std::move(p));
      return;
    }
    switch (p.command_id) {
      case cmd::kEnquireLink:
        Enqueue(c, MakeResponse(p));
        return;
      case cmd::kUnbind:
        spdlog::info("smpp {}: the SMSC unbound the session", name);
        Enqueue(c, MakeResponse(p));
        c->close_when_flushed = true;
        c->bound = false;
        if (tx == c) tx.reset();
        return;
      case cmd::kDeliverSm: {
        if (c->role == Role::kTransmitter) {
          Enqueue(c, MakeResponse(p, status::kInvBndSts));
          return;
        }
        ++c->deliver_in_flight;
        auto task = HandleDeliver(shared_from_this(), c, std::move(p));
        asio::co_spawn(strand, std::move(task), [](std::exception_ptr e) {
          if (e) spdlog::error("smpp: deliver_sm handler failed");
        });
        return;
      }
      default:
        // A request an ESME does not take (submit_sm, bind_*): say so, keep the session.
        Enqueue(c, MakeGenericNack(p.sequence_number, status::kInvCmdId));
        return;
    }
  }

  void Resolve(const std::shared_ptr<Conn>& c, Pdu p) {
    auto it = c->pending.find(p.sequence_number);
    if (it == c->pending.end()) {
      spdlog::debug("smpp {}: {} for no pending request (seq {})", name,
                    CommandName(p.command_id), p.sequence_number);
      return;
    }
    auto pending = it->second;
    c->pending.erase(it);
    pending->resp = std::move(p);
    pending->timer.cancel();
  }

  // ---- receipts and mobile-originated messages --------------------------------------------

  void RememberSecondary(const std::string& part_id, const std::string& first_id) {
    if (part_id.empty() || part_id == first_id) return;
    if (secondary.emplace(part_id, first_id).second) secondary_order.push_back(part_id);
    while (secondary_order.size() > kMaxSecondaryIds) {
      secondary.erase(secondary_order.front());
      secondary_order.pop_front();
    }
  }

  static asio::awaitable<void> HandleDeliver(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c,
                                             Pdu p) {
    const uint32_t answer = co_await RecordDeliver(self, p);
    self->Enqueue(c, MakeResponse(p, answer));
    --c->deliver_in_flight;
    if (c->deliver_in_flight + 1 == kMaxDeliverInFlight) c->reader_wake.cancel();
  }

  static ProviderEvent InboundEvent(const Impl& self, const MoMessage& m) {
    ProviderEvent ev;
    ev.connector = self.name;
    ev.status = "inbound";
    ev.channel = "sms";
    ev.from = m.source;
    ev.to = m.destination;
    ev.inbound_text = m.text;
    return ev;
  }

  // One part of a concatenated MO: held (acknowledged at once: the SMSC does not resend an
  // acknowledged part, so it lives in memory only) until the message is whole; the part that
  // completes it is acknowledged only once the whole message is recorded.
  static asio::awaitable<uint32_t> RecordPart(std::shared_ptr<Impl> self, Pdu p, Concat concat) {
    MoPart part;
    part.source = p.sm.source_addr;
    part.destination = p.sm.destination_addr;
    part.concat = concat;
    part.data_coding = p.sm.data_coding;
    part.user_data = std::string(UserData(p));
    MoReassembler::AddResult added = self->reassembler.Add(std::move(part), self->clock->NowMs());
    for (MoMessage& m : added.evicted) {
      spdlog::warn("smpp {}: {} unfinished MO messages held; the oldest, from {}, goes out with "
                   "{} of {} parts",
                   self->name, self->config.mo_reassembly_max_messages, MaskAddress(m.source),
                   m.received, m.total);
      self->incomplete.push_back(std::move(m));
    }
    if (!added.evicted.empty()) self->sweep.cancel();  // record them now
    if (added.duplicate) {
      spdlog::debug("smpp {}: duplicate MO part {}/{} from {} ignored", self->name, concat.seq,
                    concat.total, MaskAddress(p.sm.source_addr));
      co_return status::kOk;
    }
    if (!added.completed) co_return status::kOk;
    MoMessage whole = std::move(*added.completed);
    spdlog::debug("smpp {}: inbound SMS of {} parts from {}", self->name, whole.total,
                  MaskAddress(whole.source));
    ProviderEvent ev = InboundEvent(*self, whole);
    auto r = co_await self->sink->OnProviderEvent(std::move(ev));
    if (!r) {
      spdlog::warn("smpp {}: inbound SMS not recorded: {}", self->name, r.error().message);
      self->reassembler.Restore(std::move(whole), concat.seq, self->clock->NowMs());
      co_return status::kXTAppn;  // the SMSC redelivers this part, which completes it again
    }
    co_return status::kOk;
  }

  // Gives up waiting for the missing parts of MO messages after mo_reassembly_timeout_ms and
  // records what arrived (marked "[part N/M missing]"), until Stop().
  static asio::awaitable<void> SweepLoop(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      for (MoMessage& m : self->reassembler.Expire(self->clock->NowMs())) {
        spdlog::info("smpp {}: MO message from {} timed out with {} of {} parts", self->name,
                     MaskAddress(m.source), m.received, m.total);
        self->incomplete.push_back(std::move(m));
      }
      bool failed = false;
      while (!self->incomplete.empty() && !self->stopping) {
        ProviderEvent ev = InboundEvent(*self, self->incomplete.front());
        auto r = co_await self->sink->OnProviderEvent(std::move(ev));
        if (!r) {
          spdlog::warn("smpp {}: incomplete inbound SMS not recorded (retried in 1 s): {}",
                       self->name, r.error().message);
          failed = true;
          break;
        }
        self->incomplete.pop_front();
      }
      if (self->stopping) break;
      // Sleep until the next timeout (at most 1 s, so the clock may be a fake one), or until
      // Add() pushed out a message and cancelled the timer.
      int64_t pause_ms = 1000;
      if (auto next = self->reassembler.NextExpiryMs(); next && !failed) {
        pause_ms = std::clamp<int64_t>(*next - self->clock->NowMs(), 1, 1000);
      }
      self->sweep.expires_after(std::chrono::milliseconds(pause_ms));
      co_await self->sweep.async_wait(kUseTuple);
    }
    if (!self->incomplete.empty() || self->reassembler.unfinished() > 0) {
      spdlog::warn("smpp {}: stopping with {} unfinished MO messages in memory; their parts are lost",
                   self->name, self->incomplete.size() + self->reassembler.unfinished());
    }
  }

  // Records one deliver_sm; returns the deliver_sm_resp command_status.
  static asio::awaitable<uint32_t> RecordDeliver(std::shared_ptr<Impl> self, Pdu p) {
    const DeliverInfo info = ReadDeliverSm(p);
    ProviderEvent ev;
    ev.connector = self->name;
    if (!info.is_receipt) {
      if (std::optional<Concat> concat = ReadConcat(p)) {
        const uint32_t answer = co_await RecordPart(self, std::move(p), *concat);
        co_return answer;
      }
      ev.status = "inbound";
      ev.channel = "sms";
      ev.from = p.sm.source_addr;
      ev.to = p.sm.destination_addr;
      ev.inbound_text = info.text;
      spdlog::debug("smpp {}: inbound SMS from {}", self->name, MaskAddress(ev.from));
      auto r = co_await self->sink->OnProviderEvent(std::move(ev));
      if (!r) {
        spdlog::warn("smpp {}: inbound SMS not recorded: {}", self->name, r.error().message);
        co_return status::kXTAppn;  // temporary: the SMSC will deliver it again
      }
      co_return status::kOk;
    }
    if (!info.receipt) co_return status::kOk;  // intermediate (ENROUTE, ACCEPTD) or unreadable
    std::string id = NormalizeMessageId(info.raw_id, self->config.receipt_id_format);
    if (id.empty()) {
      spdlog::warn("smpp {}: receipt without a message id; dropped", self->name);
      co_return status::kOk;
    }
    if (auto sec = self->secondary.find(id); sec != self->secondary.end()) {
      // A later part of a multi-part message: its delivery adds nothing; its failure is
      // reported on the message (the first part's id).
      if (info.receipt->status == "delivered") co_return status::kOk;
      id = sec->second;
    }
    ev.provider_message_id = id;
    ev.status = info.receipt->status;
    ev.error_code = info.receipt->error_code;
    ev.error_detail = info.receipt->detail;
    for (size_t attempt = 0;; ++attempt) {
      ProviderEvent copy = ev;
      auto r = co_await self->sink->OnProviderEvent(std::move(copy));
      if (r) co_return status::kOk;
      if (r.error().code != Errc::kNotFound) {
        spdlog::warn("smpp {}: receipt not recorded: {}", self->name, r.error().message);
        co_return status::kXTAppn;
      }
      if (attempt >= std::size(kReceiptRetryDelaysMs) || self->stopping) {
        spdlog::info("smpp {}: receipt for unknown message id {}; dropped", self->name,
                     SanitizeForLog(id, 64));
        co_return status::kOk;
      }
      asio::steady_timer wait(self->strand);
      wait.expires_after(std::chrono::milliseconds(kReceiptRetryDelaysMs[attempt]));
      co_await wait.async_wait(kUseTuple);
    }
  }

  // ---- sending -----------------------------------------------------------------------------

  static SendOutcome Rejected(int code, std::string detail) {
    SendOutcome o;
    o.kind = SendOutcome::Kind::kRejected;
    o.error_code = code;
    o.error_detail = std::move(detail);
    return o;
  }
  static SendOutcome Retryable(std::string detail, std::optional<int64_t> retry_after_ms = {}) {
    SendOutcome o;
    o.kind = SendOutcome::Kind::kRetryable;
    o.error_detail = std::move(detail);
    o.retry_after_ms = retry_after_ms;
    return o;
  }

  static bool AllDigits(std::string_view s) {
    if (s.empty()) return false;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
    }
    return true;
  }

  static asio::awaitable<SendOutcome> DoSend(std::shared_ptr<Impl> self, OutboundSend m) {
    const SmppConfig& cfg = self->config;
    if (m.channel != "sms" || m.message_type != "text") {
      co_return Rejected(1440, "the SMPP connector sends sms text messages only");
    }
    std::string text;
    std::string encoding_type;
    {
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(m.payload_json, ec);
      if (ec || !v.is_object()) co_return Rejected(1410, "the message payload is not JSON");
      const auto& o = v.as_object();
      if (const auto* t = o.if_contains("text"); t && t->is_string()) text = t->as_string();
      if (const auto* s = o.if_contains("sms"); s && s->is_object()) {
        if (const auto* e = s->as_object().if_contains("encoding_type"); e && e->is_string()) {
          encoding_type = e->as_string();
        }
      }
    }
    auto encoded = EncodeText(text, encoding_type, self->next_reference++);
    if (!encoded) co_return Rejected(1410, encoded.error().message);

    std::string from = m.from;
    if (!from.empty() && from.front() == '+') from.erase(0, 1);
    std::string to = m.to;
    if (!to.empty() && to.front() == '+') to.erase(0, 1);
    Pdu submit;
    submit.command_id = cmd::kSubmitSm;
    SmFields& sm = submit.sm;
    if (cfg.source_ton_set) {
      sm.source_addr_ton = cfg.source_ton;
      sm.source_addr_npi = cfg.source_npi;
    } else if (AllDigits(from)) {
      sm.source_addr_ton = 1;
      sm.source_addr_npi = 1;
    } else {
      sm.source_addr_ton = 5;
      sm.source_addr_npi = 0;
    }
    sm.source_addr = from.substr(0, 20);
    sm.dest_addr_ton = cfg.dest_ton;
    sm.dest_addr_npi = cfg.dest_npi;
    sm.destination_addr = to.substr(0, 20);
    sm.esm_class = encoded->concatenated ? kEsmUdhi : 0;
    sm.registered_delivery = cfg.registered_delivery;
    sm.data_coding = encoded->data_coding;

    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg.send_timeout_ms);
    const auto timeout = std::chrono::milliseconds(cfg.response_timeout_ms);
    std::vector<std::string> ids;
    for (size_t part = 0; part < encoded->parts.size(); ++part) {
      sm.short_message = encoded->parts[part];
      for (;;) {
        if (self->stopping) co_return Retryable("the SMPP connector is stopping");
        const bool slot = co_await Acquire(self, deadline);
        if (!slot) {
          co_return Retryable(self->stopping ? "the SMPP connector is stopping"
                                             : "no bound SMPP session with a free window slot "
                                               "within send_timeout_ms");
        }
        auto c = self->tx;
        if (!c) {
          self->Release();
          continue;
        }
        Pdu request = submit;
        auto r = co_await Request(self, c, std::move(request), timeout);
        self->Release();
        if (!r) {
          // Ambiguous: the SMSC may have taken it. Resubmit on the next session (at most one
          // duplicate per such submit); a silent SMSC also loses its session.
          ++self->ambiguous_submits;
          spdlog::warn("smpp {}: submit_sm for message {} part {}: {}; resubmitting",
                       self->name, m.message_uuid, part + 1, r.error().message);
          if (r.error().code == Errc::kDeadlineExceeded) self->Close(c);
          if (std::chrono::steady_clock::now() >= deadline) {
            co_return Retryable("SMPP submit_sm got no response: " + r.error().message);
          }
          continue;
        }
        const SubmitStatus st = ClassifySubmitStatus(r->command_status);
        if (st.kind == SubmitStatus::Kind::kOk) {
          std::string id = NormalizeMessageId(r->message_id, cfg.submit_id_format);
          if (id.empty()) {
            spdlog::warn("smpp {}: submit_sm_resp without message_id (message {})", self->name,
                         m.message_uuid);
            id = "herald-" + m.message_uuid + "-" + std::to_string(part + 1);
          }
          ids.push_back(std::move(id));
          break;
        }
        if (st.kind == SubmitStatus::Kind::kThrottled) {
          const int factor = r->command_status == status::kMsgQFul ? 2 : 1;
          const auto pause = std::chrono::milliseconds(int64_t{cfg.throttle_backoff_ms} * factor);
          if (std::chrono::steady_clock::now() + pause >= deadline) {
            co_return Retryable(st.detail, int64_t{cfg.throttle_backoff_ms} * factor);
          }
          spdlog::debug("smpp {}: throttled ({}); resubmitting in {} ms", self->name,
                        StatusName(r->command_status), pause.count());
          asio::steady_timer wait(self->strand);
          wait.expires_after(pause);
          co_await wait.async_wait(kUseTuple);
          continue;
        }
        if (st.kind == SubmitStatus::Kind::kRetryable) co_return Retryable(st.detail);
        std::string detail = st.detail;
        if (part > 0) {
          detail += " (part " + std::to_string(part + 1) + " of " +
                    std::to_string(encoded->parts.size()) + "; earlier parts were accepted)";
        }
        co_return Rejected(st.vonage_error, std::move(detail));
      }
    }
    SendOutcome out;
    out.kind = SendOutcome::Kind::kSubmitted;
    out.provider_message_id = ids.front();
    for (size_t k = 1; k < ids.size(); ++k) self->RememberSecondary(ids[k], ids.front());
    spdlog::debug("smpp {}: message {} to {} submitted in {} part(s), id {}", self->name,
                  m.message_uuid, MaskAddress(m.to), ids.size(), SanitizeForLog(ids.front(), 64));
    co_return out;
  }

  // ---- start / stop ------------------------------------------------------------------------

  void DoStart() {
    if (started || stopping) return;
    started = true;
    auto self = shared_from_this();
    const auto on_done = [](std::exception_ptr e) {
      if (e) spdlog::error("smpp: session loop failed");
    };
    asio::co_spawn(strand, SweepLoop(self), [](std::exception_ptr e) {
      if (e) spdlog::error("smpp: reassembly timeout loop failed");
    });
    if (config.transceiver) {
      asio::co_spawn(strand, RunSession(self, Role::kTransceiver), on_done);
    } else {
      asio::co_spawn(strand, RunSession(self, Role::kTransmitter), on_done);
      asio::co_spawn(strand, RunSession(self, Role::kReceiver), on_done);
    }
  }

  void DoStop() {
    if (stopping) return;
    stopping = true;
    auto open = conns;
    for (auto& c : open) {
      // Best effort: say goodbye, then close once it is written.
      if (c->bound) {
        Pdu unbind;
        unbind.command_id = cmd::kUnbind;
        unbind.sequence_number = NextSeq();
        Enqueue(c, unbind);
        c->close_when_flushed = true;
        c->bound = false;
        if (!c->writing) Close(c);
      } else {
        Close(c);
      }
      c->idle.cancel();
      for (auto& [seq, p] : c->pending) {
        (void)seq;
        p->lost = true;
        p->timer.cancel();
      }
    }
    tx.reset();
    sweep.cancel();
    for (auto* t : backoff_timers) t->cancel();
    auto ws = std::move(waiters);
    waiters.clear();
    for (auto& w : ws) w->timer.cancel();
  }
};

SmppConnector::SmppConnector(std::string name, SmppConfig config, const ConnectorContext& context)
    : impl_(std::make_shared<Impl>(std::move(name), std::move(config), context)) {}

SmppConnector::~SmppConnector() = default;

const std::string& SmppConnector::name() const { return impl_->name; }

asio::awaitable<SendOutcome> SmppConnector::Send(OutboundSend message) {
  auto task = Impl::DoSend(impl_, std::move(message));
  co_return co_await asio::co_spawn(impl_->strand, std::move(task), asio::use_awaitable);
}

asio::awaitable<bool> SmppConnector::Revoke(std::string provider_message_id) {
  (void)provider_message_id;
  co_return false;
}

void SmppConnector::Start() {
  auto impl = impl_;
  asio::post(impl->strand, [impl] { impl->DoStart(); });
}

void SmppConnector::Stop() {
  auto impl = impl_;
  asio::post(impl->strand, [impl] { impl->DoStop(); });
}

}  // namespace herald::channels::smpp
