#include "domain/message.hpp"

#include <array>
#include <utility>

namespace herald::domain {

namespace {

// Wire names, in enum order. Parsing walks these short tables: six and eight entries are faster
// to compare than to hash.
constexpr std::array<std::pair<Channel, std::string_view>, 6> kChannelNames{{
    {Channel::kSms, "sms"},
    {Channel::kMms, "mms"},
    {Channel::kRcs, "rcs"},
    {Channel::kWhatsapp, "whatsapp"},
    {Channel::kMessenger, "messenger"},
    {Channel::kViberService, "viber_service"},
}};

constexpr std::array<std::pair<MessageState, std::string_view>, 8> kStateNames{{
    {MessageState::kQueued, "queued"},
    {MessageState::kWaiting, "waiting"},
    {MessageState::kSubmitted, "submitted"},
    {MessageState::kDelivered, "delivered"},
    {MessageState::kRead, "read"},
    {MessageState::kRejected, "rejected"},
    {MessageState::kUndeliverable, "undeliverable"},
    {MessageState::kSkipped, "skipped"},
}};

}  // namespace

std::string_view ChannelName(Channel channel) {
  // A switch (not a table lookup) so that adding an enumerator without a name is a -Wswitch
  // warning rather than a silent "unknown".
  switch (channel) {
    case Channel::kSms:
      return "sms";
    case Channel::kMms:
      return "mms";
    case Channel::kRcs:
      return "rcs";
    case Channel::kWhatsapp:
      return "whatsapp";
    case Channel::kMessenger:
      return "messenger";
    case Channel::kViberService:
      return "viber_service";
  }
  return "unknown";  // only reachable with a value cast from outside the enum
}

std::optional<Channel> ParseChannel(std::string_view name) {
  for (const auto& [channel, channel_name] : kChannelNames) {
    if (channel_name == name) return channel;
  }
  return std::nullopt;
}

std::string_view MessageStateName(MessageState state) {
  switch (state) {
    case MessageState::kQueued:
      return "queued";
    case MessageState::kWaiting:
      return "waiting";
    case MessageState::kSubmitted:
      return "submitted";
    case MessageState::kDelivered:
      return "delivered";
    case MessageState::kRead:
      return "read";
    case MessageState::kRejected:
      return "rejected";
    case MessageState::kUndeliverable:
      return "undeliverable";
    case MessageState::kSkipped:
      return "skipped";
  }
  return "unknown";  // only reachable with a value cast from outside the enum
}

std::optional<MessageState> ParseMessageState(std::string_view name) {
  for (const auto& [state, state_name] : kStateNames) {
    if (state_name == name) return state;
  }
  return std::nullopt;
}

}  // namespace herald::domain
