#include "webhooks/payloads.hpp"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/clock.hpp"
#include "core/gsm7.hpp"

namespace herald::webhooks {

namespace json = boost::json;

namespace {

bool HasUsage(std::string_view channel) {
  return channel == "sms" || channel == "mms" || channel == "messenger" ||
         channel == "viber_service" || channel == "whatsapp";
}

json::object Usage() { return json::object{{"currency", "EUR"}, {"price", "0"}}; }

json::object Workflow(const StatusEvent& e) {
  // Strings, not numbers (contract §4.5).
  return json::object{{"workflow_id", *e.workflow_id},
                      {"items_number", std::to_string(e.items_number)},
                      {"items_total", std::to_string(e.items_total)}};
}

std::string ErrorInstance(std::string_view message_uuid) {
  std::string out;
  out.reserve(32);
  for (char c : message_uuid) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

bool UsageOnStatus(const StatusEvent& e) {
  return HasUsage(e.channel) && (e.status == "submitted" || e.status == "delivered");
}

std::string V1Status(const StatusEvent& e) {
  json::object o;
  o["message_uuid"] = e.message_uuid;
  o["to"] = e.to;
  o["from"] = e.from;
  o["channel"] = e.channel;
  o["timestamp"] = FormatIso8601Seconds(e.timestamp_ms);
  o["status"] = e.status;
  if (e.error_code) {
    const std::string code = std::to_string(*e.error_code);
    o["error"] = json::object{{"type", "https://developer.vonage.com/api-errors/messages#" + code},
                              {"title", code},
                              {"detail", e.error_detail},
                              {"instance", ErrorInstance(e.message_uuid)}};
  }
  if (e.channel == "sms") {
    o["sms"] = json::object{{"count_total", std::to_string(e.sms_count_total)}};
  }
  if (UsageOnStatus(e)) o["usage"] = Usage();
  if (e.client_ref) o["client_ref"] = *e.client_ref;
  if (e.workflow_id) o["workflow"] = Workflow(e);
  return json::serialize(o);
}

// v0.1 addresses (contract §11): {type, number} for phone numbers, {type, id} for page and
// sender ids. rcs is not a v0.1 channel; it keeps its v1 name with the same rule as viber.
json::object V01Address(std::string_view channel, const std::string& value, bool is_from) {
  std::string type(channel == "viber_service" ? "viber_service_msg" : channel);
  const bool by_id =
      channel == "messenger" || (is_from && (channel == "viber_service" || channel == "rcs"));
  return json::object{{"type", type}, {by_id ? "id" : "number", value}};
}

std::string V01Status(const StatusEvent& e) {
  json::object o;
  o["message_uuid"] = e.message_uuid;
  o["to"] = V01Address(e.channel, e.to, false);
  o["from"] = V01Address(e.channel, e.from, true);
  o["timestamp"] = FormatIso8601Millis(e.timestamp_ms);
  o["status"] = e.status;
  if (e.error_code) {
    o["error"] = json::object{{"code", *e.error_code}, {"reason", e.error_detail}};
  }
  if (UsageOnStatus(e)) o["usage"] = Usage();
  if (e.client_ref) o["client_ref"] = *e.client_ref;
  if (e.dispatch_uuid) {
    const std::string href = "v0.1/dispatch/" + *e.dispatch_uuid;
    o["_links"] = json::object{
        {"workflow", json::object{{"dispatch_uuid", *e.dispatch_uuid}, {"href", href}}},
        {"dispatch", json::object{{"href", href}, {"dispatch_uuid", *e.dispatch_uuid}}}};
  } else if (e.workflow_id) {
    o["workflow"] = Workflow(e);
  }
  return json::serialize(o);
}

}  // namespace

std::string DispatchReportBody(const DispatchReport& r) {
  json::array messages;
  for (const auto& item : r.items) {
    json::object m{{"message_uuid", item.message_uuid},
                   {"href", "v0.1/messages/" + item.message_uuid},
                   {"channel", item.channel == "viber_service" ? "viber_service_msg" : item.channel}};
    if (item.status == "delivered" || item.status == "read" || item.status == "submitted") {
      m["usage"] = Usage();
    }
    m["status"] = item.status;
    messages.push_back(std::move(m));
  }
  json::object o;
  o["template"] = "failover";
  o["status"] = r.status;
  o["timestamp"] = FormatIso8601Millis(r.timestamp_ms);
  o["usage"] = Usage();
  o["dispatch_uuid"] = r.dispatch_uuid;
  o["_links"] = json::object{{"messages", std::move(messages)}};
  return json::serialize(o);
}

std::string EscalationReportBody(const EscalationReport& r) {
  json::object o;
  o["escalation_id"] = r.escalation_id;
  o["status"] = r.status;
  o["timestamp"] = FormatIso8601Millis(r.timestamp_ms);
  if (r.outcome) {
    o["outcome"] = json::object{{"how", r.outcome->how},
                                {"person", r.outcome->person},
                                {"channel", r.outcome->channel},
                                {"message_uuid", r.outcome->message_uuid},
                                {"timestamp", FormatIso8601Millis(r.outcome->timestamp_ms)}};
  } else {
    o["outcome"] = nullptr;
  }
  if (r.client_ref) o["client_ref"] = *r.client_ref;
  json::array steps;
  for (const auto& item : r.items) {
    steps.push_back(json::object{{"message_uuid", item.message_uuid},
                                 {"person", item.person.value_or("")},
                                 {"round", item.round},
                                 {"channel", item.channel},
                                 {"status", item.status}});
  }
  o["steps"] = std::move(steps);
  return json::serialize(o);
}

std::string StatusWebhookBody(const StatusEvent& e) {
  return e.webhook_version == "v0.1" ? V01Status(e) : V1Status(e);
}

std::string InboundWebhookBody(const InboundEvent& e) {
  json::object o;
  o["channel"] = e.channel;
  o["message_uuid"] = e.message_uuid;
  o["to"] = e.to;
  o["from"] = e.from;
  o["timestamp"] = FormatIso8601Seconds(e.timestamp_ms);
  o["message_type"] = "text";
  o["text"] = e.text;
  if (e.channel == "sms") {
    o["sms"] = json::object{{"num_messages", std::to_string(SmsSegmentCount(e.text))}};
    o["usage"] = Usage();
  } else if (e.channel == "whatsapp") {
    o["context_status"] = "none";
    o["profile"] = json::object{{"name", "Herald Simulator"}};
  }
  return json::serialize(o);
}

int SmsSegmentCount(std::string_view utf8_text) {
  size_t septets = 0;
  size_t utf16_units = 0;
  bool gsm = true;
  for (size_t i = 0; i < utf8_text.size();) {
    const char32_t cp = gsm7::NextCodePoint(utf8_text, i);
    utf16_units += cp > 0xFFFF ? 2 : 1;
    uint8_t unused[2];
    const int n = gsm7::Encode(cp, unused);
    if (n == 0) gsm = false;
    septets += static_cast<size_t>(n);
  }
  const size_t units = gsm ? septets : utf16_units;
  const size_t single = gsm ? 160 : 70;
  const size_t per_part = gsm ? 153 : 67;  // a concatenation header takes the rest
  if (units <= single) return 1;
  return static_cast<int>((units + per_part - 1) / per_part);
}

}  // namespace herald::webhooks
