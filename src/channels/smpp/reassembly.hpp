// Reassembly of concatenated mobile-originated SMS (docs/connectors/smpp.md, "Mobile-originated
// messages"): a long MO arrives as several deliver_sm, each carrying its part number either in
// a UDH (IEI 0x00: 8-bit reference, IEI 0x08: 16-bit reference; 3GPP TS 23.040 §9.2.3.24.1 and
// §9.2.3.24.8) or in the SMPP 3.4 TLVs sar_msg_ref_num (0x020C), sar_total_segments (0x020E)
// and sar_segment_seqnum (0x020F).
//
// MoReassembler holds the parts of unfinished messages in memory, keyed by (source address,
// destination address, reference, total parts), and gives back one whole message when the
// last part arrives. Bounded: at most `max_messages` unfinished messages (the oldest is pushed
// out when a new one would exceed that) and `timeout_ms` after its first part a message is
// given up waiting for; either way it comes back incomplete, with "[part N/M missing]" where
// a part is missing. A part it already holds (same key, same number) is a duplicate; so is a
// part of a message it completed less than `timeout_ms` ago if its content is the same (an
// SMSC redelivering a part whose deliver_sm_resp it lost).
//
// Text: the parts' user data (without the UDH) is decoded with each part's data_coding
// (DecodeToUtf8: 0 GSM-7, 8 UCS-2, others Latin-1); consecutive parts of the same coding are
// joined before decoding, so a character split across two parts survives.
//
// Pure (no I/O; time is a parameter). Not thread-safe: the SMPP connector uses it from its
// strand.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "channels/smpp/pdu.hpp"

namespace herald::channels::smpp {

namespace tlv {
inline constexpr uint16_t kSarMsgRefNum = 0x020C;
inline constexpr uint16_t kSarTotalSegments = 0x020E;
inline constexpr uint16_t kSarSegmentSeqnum = 0x020F;
}  // namespace tlv

struct Concat {
  uint16_t reference = 0;
  uint8_t total = 0;  // ≥ 2
  uint8_t seq = 0;    // 1..total
};

// The deliver_sm's part number: from the UDH when esm_class has UDHI (IEI 0x00 or 0x08; other
// elements skipped), else from the three SAR TLVs (all three needed). nullopt when the message
// is not a part, or the numbers make no sense (total < 2, seq 0 or > total, a truncated UDH):
// it is then delivered on its own, as before.
std::optional<Concat> ReadConcat(const Pdu& deliver_sm);

// The deliver_sm's user data: message_payload when present, else short_message, without the
// UDH when esm_class has UDHI.
std::string_view UserData(const Pdu& deliver_sm);

struct MoPart {
  std::string source;       // source_addr (the person)
  std::string destination;  // destination_addr (Herald's number)
  Concat concat;
  uint8_t data_coding = 0;
  std::string user_data;  // octets, without the UDH
};

struct MoMessage {
  std::string source;
  std::string destination;
  std::string text;  // UTF-8; "[part N/M missing]" in place of each missing part
  uint8_t total = 0;
  uint8_t received = 0;
  bool complete() const { return received == total; }
  std::vector<MoPart> parts;  // in part order (for Restore)
};

class MoReassembler {
 public:
  MoReassembler(size_t max_messages, int64_t timeout_ms);

  struct AddResult {
    bool duplicate = false;              // ignored: acknowledge it, record nothing
    std::optional<MoMessage> completed;  // this part completed the message
    std::vector<MoMessage> evicted;      // incomplete messages pushed out by the bound
  };
  AddResult Add(MoPart part, int64_t now_ms);

  // Removes the unfinished messages whose first part arrived `timeout_ms` or more before
  // `now_ms` and returns them (incomplete).
  std::vector<MoMessage> Expire(int64_t now_ms);

  // Puts a completed message back as unfinished, without part `last_seq` (the one that
  // completed it): its recording failed, the SMSC is answered with a temporary error and
  // redelivers that part, which then completes the message again.
  void Restore(MoMessage message, uint8_t last_seq, int64_t now_ms);

  // When the oldest unfinished message times out; nullopt if there is none.
  std::optional<int64_t> NextExpiryMs() const;
  size_t unfinished() const { return partial_.size(); }

 private:
  using Key = std::tuple<std::string, std::string, uint16_t, uint8_t>;
  struct Partial {
    int64_t first_at_ms = 0;
    std::map<uint8_t, MoPart> parts;
    std::list<Key>::iterator order;
  };
  struct Recent {
    int64_t completed_at_ms = 0;
    std::map<uint8_t, std::string> parts;  // seq -> user data octets and coding
    std::list<Key>::iterator order;
  };

  static Key KeyOf(const MoPart& p);
  MoMessage Take(const Key& key);
  void RememberCompleted(const Key& key, const MoMessage& m, int64_t now_ms);
  void ExpireRecent(int64_t now_ms);

  const size_t max_messages_;
  const int64_t timeout_ms_;
  std::map<Key, Partial> partial_;
  std::list<Key> order_;  // unfinished, oldest first
  std::map<Key, Recent> recent_;
  std::list<Key> recent_order_;
};

// The whole text of `parts` (sorted by part number, from a message of `total` parts).
std::string JoinParts(const std::vector<MoPart>& parts, uint8_t total);

}  // namespace herald::channels::smpp
