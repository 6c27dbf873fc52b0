// The domain model of an accepted Messages API v1 request: one or more outbound messages
// (the primary plus its `failover` items) that form one workflow.
//
// Pure data and pure functions: no I/O, no Asio. Thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace herald::domain {

enum class Channel { kSms, kMms, kRcs, kWhatsapp, kMessenger, kViberService };

// "sms", "mms", "rcs", "whatsapp", "messenger", "viber_service".
std::string_view ChannelName(Channel channel);
std::optional<Channel> ParseChannel(std::string_view name);

// Herald's life cycle of one message. The first five are Vonage's statuses; kQueued and
// kWaiting are Herald's own states before a message is handed to a provider.
enum class MessageState {
  kQueued,         // accepted, to be sent (the first item of a workflow)
  kWaiting,        // a failover item, sent only if the previous item is rejected
  kSubmitted,
  kDelivered,
  kRead,
  kRejected,
  kUndeliverable,
  kSkipped,        // a failover item that was never needed
};
std::string_view MessageStateName(MessageState state);
std::optional<MessageState> ParseMessageState(std::string_view name);

// One validated outbound message (a primary or a failover item).
struct OutboundMessage {
  Channel channel = Channel::kSms;
  std::string message_type;                    // "text", "image", ...
  std::string to;
  std::string from;
  std::optional<std::string> client_ref;
  std::optional<std::string> webhook_url;
  std::optional<std::string> webhook_version;  // "v0.1" | "v1"
  std::optional<int64_t> ttl_seconds;          // sms/mms/rcs `ttl`, viber_service.ttl
  // The item exactly as the client sent it (a JSON object), minus `failover`. Kept so later
  // stages (connectors) see every channel option without this struct naming each one.
  boost::json::object payload;
};

// A validated POST /v1/messages body. items[0] is the primary message; items[1..] are the
// `failover` items in the order they are tried.
struct SendRequest {
  std::vector<OutboundMessage> items;
  bool has_failover() const { return items.size() > 1; }
};

}  // namespace herald::domain
