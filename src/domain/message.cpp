#include "domain/message.hpp"

#include <array>
#include <utility>

namespace herald::domain {

namespace {
constexpr std::array<std::pair<Channel, std::string_view>, 6> kChannels{{
    {Channel::kSms, "sms"},
    {Channel::kMms, "mms"},
    {Channel::kRcs, "rcs"},
    {Channel::kWhatsapp, "whatsapp"},
    {Channel::kMessenger, "messenger"},
    {Channel::kViberService, "viber_service"},
}};
constexpr std::array<std::pair<MessageState, std::string_view>, 8> kStates{{
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
  for (const auto& [c, name] : kChannels) {
    if (c == channel) return name;
  }
  return "unknown";
}

std::optional<Channel> ParseChannel(std::string_view name) {
  for (const auto& [c, n] : kChannels) {
    if (n == name) return c;
  }
  return std::nullopt;
}

std::string_view MessageStateName(MessageState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<MessageState> ParseMessageState(std::string_view name) {
  for (const auto& [s, n] : kStates) {
    if (n == name) return s;
  }
  return std::nullopt;
}

}  // namespace herald::domain
