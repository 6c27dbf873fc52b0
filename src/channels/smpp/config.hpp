// [connectors.NAME] type = "smpp": the settings of one SMPP connector (docs/connectors/smpp.md).
// Parsing is pure and reports the first bad key with its path:
// "connectors.smsc.window: must be an integer between 1 and 1024".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "channels/smpp/mapping.hpp"
#include "core/result.hpp"

namespace herald::channels::smpp {

struct SmppConfig {
  std::string host;
  uint16_t port = 0;
  std::string system_id;
  std::string password;  // secret: never logged
  std::string system_type;
  bool transceiver = true;  // bind = "transceiver"; false: "transmitter_receiver" (two sessions)
  int window = 64;          // submit_sm in flight without a response, per session
  int enquire_link_s = 30;
  int reconnect_max_s = 30;  // reconnect backoff doubles from 250 ms up to this
  uint8_t source_ton = 5;    // alphanumeric; a sender of digits only is sent as 1/1 (international)
  uint8_t source_npi = 0;
  bool source_ton_set = false;  // source_ton/npi given: used for every sender as is
  uint8_t dest_ton = 1;
  uint8_t dest_npi = 1;
  uint8_t registered_delivery = 1;  // final receipt requested
  int throttle_backoff_ms = 1000;   // after ESME_RTHROTTLED; ESME_RMSGQFUL waits twice as long
  int response_timeout_ms = 10000;  // a submit_sm_resp (or enquire_link_resp) that takes longer
                                    // drops the session
  int send_timeout_ms = 60000;      // a Send() that found no bound session (or stayed throttled)
                                    // for this long returns a retryable failure
  IdFormat submit_id_format = IdFormat::kString;
  IdFormat receipt_id_format = IdFormat::kString;
  // Concatenated mobile-originated SMS (reassembly.hpp): how long the parts of an unfinished
  // message are held after its first part, and how many unfinished messages at most.
  int mo_reassembly_timeout_ms = 60000;
  int mo_reassembly_max_messages = 10000;
};

// Every key a smpp connector table may hold (the factory checks the names).
const std::vector<std::string_view>& ConfigKeys();

// Reads and checks [connectors.NAME]. Errors (kInvalidArgument) name the key.
Result<SmppConfig> ParseConfig(const std::string& name, const toml::table& settings);

}  // namespace herald::channels::smpp
