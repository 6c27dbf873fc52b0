// The config files of Vonage's on-call example `nexmo-community/dispatch-user-fallback`
// (contract §12.2, case-2 and case-3 formats, unchanged), translated into a
// `POST /v1/escalations` request (docs/escalations.md). Pure functions, no I/O; thread-safe.
//
//   APP.APP_ID, APP.PRIVATE_KEY       -> who signs the requests (the key file path as written)
//   FROM.{MESSENGER,VIBER,WHATSAPP,SMS} -> the sender of each channel type
//   USERS[i]                          -> people[i] (same order), text "[<name>]: <text>"
//   USERS[i].channels[j]              -> people[i].steps[j]:
//       type messenger -> channel messenger,     from FROM.MESSENGER
//            sms       -> channel sms,           from FROM.SMS
//            whatsapp  -> channel whatsapp,      from FROM.WHATSAPP
//            viber_service_msg -> viber_service, from FROM.VIBER
//       id_num -> to; condition_status and expiry_time (integer or numeric string, case-3)
//       passed on when present, else left to the API's defaults (read within 600 s, case-2).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace herald::cli {

inline constexpr std::string_view kDefaultText = "Important message!";
// What the API waits for a step without expiry_time (docs/escalations.md, default_expiry_time).
inline constexpr int64_t kDefaultExpirySeconds = 600;

struct TutorialOptions {
  std::string text{kDefaultText};
};

struct TutorialPlan {
  std::string app_id;
  std::string private_key_path;  // APP.PRIVATE_KEY as written (relative to the config's folder)
  boost::json::object request;   // the body of POST /v1/escalations
  // The sum of every step's expiry_time (defaults included): the longest the escalation can
  // run on the server at normal speed, before any repeat.
  int64_t total_wait_seconds = 0;
};

// Parses and translates a config. Errors (kInvalidArgument): the message names every bad field
// by its path in the config ("USERS[1].channels[0].type: unknown channel type 'viber' ..."),
// joined with "; ".
Result<TutorialPlan> TranslateTutorialConfig(std::string_view json_text,
                                             const TutorialOptions& options = {});

// Maps a field named by the escalation API back to the config it came from:
// "people[1].steps[0].to" -> "USERS[1].channels[0].id_num"; "people[0].name" ->
// "USERS[0].name". Anything else is returned unchanged.
std::string ConfigPathFor(std::string_view api_field);

}  // namespace herald::cli
