#include "channels/smpp/reassembly.hpp"

#include <utility>

#include "channels/smpp/text.hpp"

namespace herald::channels::smpp {

namespace {

std::string_view Body(const Pdu& p) {
  const Tlv* payload = p.FindTlv(tlv::kMessagePayload);
  return payload ? std::string_view(payload->value) : std::string_view(p.sm.short_message);
}

bool Udhi(const Pdu& p) { return (p.sm.esm_class & kEsmUdhi) != 0; }

std::optional<Concat> Valid(uint16_t reference, uint8_t total, uint8_t seq) {
  if (total < 2 || seq == 0 || seq > total) return std::nullopt;
  return Concat{reference, total, seq};
}

std::optional<uint32_t> TlvNumber(const Pdu& p, uint16_t tag, size_t size) {
  const Tlv* t = p.FindTlv(tag);
  if (t == nullptr || t->value.size() != size) return std::nullopt;
  uint32_t v = 0;
  for (unsigned char c : t->value) v = (v << 8) | c;
  return v;
}

std::string Marker(uint8_t seq, uint8_t total) {
  return "[part " + std::to_string(seq) + "/" + std::to_string(total) + " missing]";
}

std::string Fingerprint(const MoPart& p) {
  return std::string(1, static_cast<char>(p.data_coding)) + p.user_data;
}

}  // namespace

std::optional<Concat> ReadConcat(const Pdu& p) {
  if (Udhi(p)) {
    const std::string_view body = Body(p);
    if (body.empty()) return std::nullopt;
    const size_t udhl = static_cast<uint8_t>(body[0]);
    if (udhl + 1 > body.size()) return std::nullopt;
    const std::string_view udh = body.substr(1, udhl);
    for (size_t at = 0; at + 2 <= udh.size();) {
      const uint8_t iei = static_cast<uint8_t>(udh[at]);
      const size_t len = static_cast<uint8_t>(udh[at + 1]);
      if (at + 2 + len > udh.size()) return std::nullopt;
      const auto* d = reinterpret_cast<const unsigned char*>(udh.data() + at + 2);
      if (iei == 0x00 && len == 3) return Valid(d[0], d[1], d[2]);
      if (iei == 0x08 && len == 4) {
        return Valid(static_cast<uint16_t>((d[0] << 8) | d[1]), d[2], d[3]);
      }
      at += 2 + len;
    }
    // A UDH without a concatenation element (ports, ...): fall through to the TLVs.
  }
  const auto ref = TlvNumber(p, tlv::kSarMsgRefNum, 2);
  const auto total = TlvNumber(p, tlv::kSarTotalSegments, 1);
  const auto seq = TlvNumber(p, tlv::kSarSegmentSeqnum, 1);
  if (!ref || !total || !seq) return std::nullopt;
  return Valid(static_cast<uint16_t>(*ref), static_cast<uint8_t>(*total), static_cast<uint8_t>(*seq));
}

std::string_view UserData(const Pdu& p) {
  std::string_view body = Body(p);
  if (Udhi(p) && !body.empty()) {
    const size_t udh_len = static_cast<uint8_t>(body[0]) + 1u;
    body = udh_len >= body.size() ? std::string_view{} : body.substr(udh_len);
  }
  return body;
}

std::string JoinParts(const std::vector<MoPart>& parts, uint8_t total) {
  std::string text;
  size_t i = 0;
  for (unsigned seq = 1; seq <= total; ++seq) {
    if (i >= parts.size() || parts[i].concat.seq != seq) {
      text += Marker(static_cast<uint8_t>(seq), total);
      continue;
    }
    // A run of consecutive parts with the same coding is decoded as one.
    const uint8_t coding = parts[i].data_coding;
    std::string octets;
    while (i < parts.size() && parts[i].concat.seq == seq && parts[i].data_coding == coding) {
      octets += parts[i].user_data;
      ++i;
      ++seq;
    }
    --seq;  // the for loop's ++seq moves to the part after the run
    text += DecodeToUtf8(coding, octets, false);
  }
  return text;
}

MoReassembler::MoReassembler(size_t max_messages, int64_t timeout_ms)
    : max_messages_(max_messages == 0 ? 1 : max_messages), timeout_ms_(timeout_ms) {}

MoReassembler::Key MoReassembler::KeyOf(const MoPart& p) {
  return Key{p.source, p.destination, p.concat.reference, p.concat.total};
}

MoMessage MoReassembler::Take(const Key& key) {
  auto it = partial_.find(key);
  MoMessage m;
  m.source = std::get<0>(key);
  m.destination = std::get<1>(key);
  m.total = std::get<3>(key);
  for (auto& [seq, part] : it->second.parts) m.parts.push_back(std::move(part));
  m.received = static_cast<uint8_t>(m.parts.size());
  m.text = JoinParts(m.parts, m.total);
  order_.erase(it->second.order);
  partial_.erase(it);
  return m;
}

void MoReassembler::RememberCompleted(const Key& key, const MoMessage& m, int64_t now_ms) {
  if (auto old = recent_.find(key); old != recent_.end()) {
    recent_order_.erase(old->second.order);
    recent_.erase(old);
  }
  Recent r;
  r.completed_at_ms = now_ms;
  for (const MoPart& p : m.parts) r.parts.emplace(p.concat.seq, Fingerprint(p));
  r.order = recent_order_.insert(recent_order_.end(), key);
  recent_.emplace(key, std::move(r));
  while (recent_.size() > max_messages_) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

void MoReassembler::ExpireRecent(int64_t now_ms) {
  while (!recent_order_.empty()) {
    auto it = recent_.find(recent_order_.front());
    if (it->second.completed_at_ms + timeout_ms_ > now_ms) break;
    recent_.erase(it);
    recent_order_.pop_front();
  }
}

MoReassembler::AddResult MoReassembler::Add(MoPart part, int64_t now_ms) {
  AddResult result;
  ExpireRecent(now_ms);
  const Key key = KeyOf(part);
  auto it = partial_.find(key);
  if (it == partial_.end()) {
    if (auto done = recent_.find(key); done != recent_.end()) {
      auto same = done->second.parts.find(part.concat.seq);
      if (same != done->second.parts.end() && same->second == Fingerprint(part)) {
        result.duplicate = true;
        return result;
      }
      // The same reference reused for a new message.
      recent_order_.erase(done->second.order);
      recent_.erase(done);
    }
    while (partial_.size() >= max_messages_) {
      const Key oldest = order_.front();
      result.evicted.push_back(Take(oldest));
    }
    Partial fresh;
    fresh.first_at_ms = now_ms;
    fresh.order = order_.insert(order_.end(), key);
    it = partial_.emplace(key, std::move(fresh)).first;
  }
  if (it->second.parts.contains(part.concat.seq)) {
    result.duplicate = true;
    return result;
  }
  const uint8_t seq = part.concat.seq;
  it->second.parts.emplace(seq, std::move(part));
  if (it->second.parts.size() == std::get<3>(key)) {
    MoMessage m = Take(key);
    RememberCompleted(key, m, now_ms);
    result.completed = std::move(m);
  }
  return result;
}

std::vector<MoMessage> MoReassembler::Expire(int64_t now_ms) {
  std::vector<MoMessage> out;
  ExpireRecent(now_ms);
  while (!order_.empty()) {
    const Key oldest = order_.front();
    if (partial_.at(oldest).first_at_ms + timeout_ms_ > now_ms) break;
    out.push_back(Take(oldest));
  }
  return out;
}

void MoReassembler::Restore(MoMessage message, uint8_t last_seq, int64_t now_ms) {
  if (message.parts.empty()) return;
  const Key key = KeyOf(message.parts.front());
  if (auto done = recent_.find(key); done != recent_.end()) {
    recent_order_.erase(done->second.order);
    recent_.erase(done);
  }
  if (partial_.contains(key)) return;  // a new message with this key started meanwhile
  // No eviction here (at most one over the bound until the next Add): the parts were
  // acknowledged, so dropping another message now would lose it without a trace.
  Partial p;
  p.first_at_ms = now_ms;
  p.order = order_.insert(order_.end(), key);
  // Every part but the one whose deliver_sm is answered with an error: the SMSC redelivers
  // that one, and it completes the message again.
  for (MoPart& part : message.parts) {
    const uint8_t seq = part.concat.seq;
    if (seq != last_seq) p.parts.emplace(seq, std::move(part));
  }
  partial_.emplace(key, std::move(p));
}

std::optional<int64_t> MoReassembler::NextExpiryMs() const {
  if (order_.empty()) return std::nullopt;
  return partial_.at(order_.front()).first_at_ms + timeout_ms_;
}

}  // namespace herald::channels::smpp
