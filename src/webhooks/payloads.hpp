// Webhook bodies: status webhooks in the Messages v1 shape (contract §6.1, §6.2) or the v0.1
// shape (§6.4), and inbound message webhooks (§7). Pure functions returning compact JSON;
// keys are written in the contract's order so bodies read like Vonage's. Thread-safe.
//
// Herald decisions (docs/webhooks.md):
//  - `usage` is {"currency":"EUR","price":"0"} (Herald does not bill) on the channels whose
//    schema has it (sms, mms, messenger, viber_service, whatsapp), on `submitted` and
//    `delivered` only: the events Vonage bills on (SMS/MMS on submitted, OTT on delivered).
//  - sms status webhooks carry "sms": {"count_total": "<sms_count_total>"} on every status;
//    segments and destination.network_code are left out (Herald has no carrier data).
//  - `error.instance` is the message uuid without dashes (32 hex): stable, so a retried
//    webhook carries the same body, and an operator can find the message from it.
//  - v0.1 bodies carry the v1 `workflow` object too (contract open question 16): receivers
//    that do not know it ignore it; those that do need it to follow a failover.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::webhooks {

struct StatusEvent {
  std::string message_uuid, to, from, channel;
  int64_t timestamp_ms = 0;
  std::string status;
  std::optional<int> error_code;
  std::string error_detail;
  std::optional<std::string> client_ref;
  std::optional<std::string> workflow_id;
  int items_number = 1;
  int items_total = 1;
  std::string webhook_version = "v1";
  int sms_count_total = 1;  // sms only: segments of the message (SmsSegmentCount)
  // A Dispatch item (v0.1): `_links` names the dispatch twice — `workflow` as the spec
  // documents it and `dispatch` as production sends it (contract §10.3).
  std::optional<std::string> dispatch_uuid;
};

std::string StatusWebhookBody(const StatusEvent& e);

// One item of a plan's final report.
struct ReportItem {
  std::string message_uuid, channel, status;
  std::optional<std::string> person;  // escalation
  int round = 1;                      // escalation
};

// The Dispatch final report (contract §10.4): status "completed" | "error".
struct DispatchReport {
  std::string dispatch_uuid, status;
  int64_t timestamp_ms = 0;
  std::vector<ReportItem> items;
};
std::string DispatchReportBody(const DispatchReport& r);

// The escalation final report (docs/escalations.md): status "completed" | "failed" |
// "cancelled"; outcome only when completed.
struct EscalationOutcome {
  std::string how, person, channel, message_uuid;
  int64_t timestamp_ms = 0;
};
struct EscalationReport {
  std::string escalation_id, status;
  int64_t timestamp_ms = 0;
  std::optional<EscalationOutcome> outcome;
  std::optional<std::string> client_ref;
  std::vector<ReportItem> items;
};
std::string EscalationReportBody(const EscalationReport& r);

struct InboundEvent {
  std::string message_uuid, channel, to, from, text;
  int64_t timestamp_ms = 0;
};

// v1 shape, message_type "text". sms: "sms": {"num_messages": "<segments of text>"} and
// usage; whatsapp: context_status "none" and profile {"name":"Herald Simulator"}.
std::string InboundWebhookBody(const InboundEvent& e);

// How many SMS segments `utf8_text` needs: GSM 03.38 text (extension characters count twice)
// fits 160 septets in one segment, 153 per segment when concatenated; anything else is UCS-2:
// 70 UTF-16 units, 67 per segment. Empty text is 1 segment.
int SmsSegmentCount(std::string_view utf8_text);

}  // namespace herald::webhooks
