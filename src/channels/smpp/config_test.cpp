#include "channels/smpp/config.hpp"

#include <gtest/gtest.h>

#include "channels/factory.hpp"

namespace herald::channels::smpp {
namespace {

toml::table Parse(std::string_view text) { return toml::parse(text); }

std::string ErrorOf(std::string_view text) {
  auto r = ValidateConnectorSettings("smsc", Parse(text));
  return r ? std::string("ok") : r.error().message;
}

constexpr std::string_view kMinimal = R"(type = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "herald"
)";

TEST(SmppConfigTest, DefaultsFromAMinimalTable) {
  auto c = ParseConfig("smsc", Parse(kMinimal));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 2775);
  EXPECT_TRUE(c->transceiver);
  EXPECT_EQ(c->window, 64);
  EXPECT_EQ(c->enquire_link_s, 30);
  EXPECT_EQ(c->registered_delivery, 1);
  EXPECT_EQ(c->throttle_backoff_ms, 1000);
  EXPECT_FALSE(c->source_ton_set);
  EXPECT_EQ(c->submit_id_format, IdFormat::kString);
  EXPECT_EQ(ErrorOf(kMinimal), "ok");
}

TEST(SmppConfigTest, EveryKey) {
  auto c = ParseConfig("smsc", Parse(R"(type = "smpp"
host = "smsc.example"
port = 2776
system_id = "herald"
password = "secret"
system_type = "VMA"
bind = "transmitter_receiver"
window = 10
enquire_link_s = 5
reconnect_max_s = 7
source_ton = 1
source_npi = 1
dest_ton = 0
dest_npi = 0
registered_delivery = 0
throttle_backoff_ms = 250
response_timeout_ms = 2000
send_timeout_ms = 9000
submit_id_format = "hex"
receipt_id_format = "decimal"
mo_reassembly_timeout_ms = 5000
mo_reassembly_max_messages = 20
)"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->transceiver);
  EXPECT_EQ(c->window, 10);
  EXPECT_EQ(c->password, "secret");
  EXPECT_TRUE(c->source_ton_set);
  EXPECT_EQ(c->dest_ton, 0);
  EXPECT_EQ(c->registered_delivery, 0);
  EXPECT_EQ(c->submit_id_format, IdFormat::kHex);
  EXPECT_EQ(c->receipt_id_format, IdFormat::kDecimal);
  EXPECT_EQ(c->mo_reassembly_timeout_ms, 5000);
  EXPECT_EQ(c->mo_reassembly_max_messages, 20);
}

TEST(SmppConfigTest, PreciseErrors) {
  const std::string base(kMinimal);
  EXPECT_EQ(ErrorOf(R"(type = "smpp")"),
            "connectors.smsc.host: is required (the SMSC's host name or IP address)");
  EXPECT_EQ(ErrorOf("type = \"smpp\"\nhost = \"h\"\nsystem_id = \"x\""),
            "connectors.smsc.port: is required (an integer between 1 and 65535)");
  EXPECT_EQ(ErrorOf(base + "window = 0"),
            "connectors.smsc.window: must be an integer between 1 and 1024");
  EXPECT_EQ(ErrorOf(base + "window = \"64\""),
            "connectors.smsc.window: must be an integer between 1 and 1024");
  EXPECT_EQ(ErrorOf(base + "bind = \"receiver\""),
            "connectors.smsc.bind: must be \"transceiver\" or \"transmitter_receiver\"");
  EXPECT_EQ(ErrorOf(base + "password = \"123456789\""),
            "connectors.smsc.password: must be at most 8 characters");
  EXPECT_EQ(ErrorOf(base + "windw = 3"), "connectors.smsc.windw: unknown key for a smpp connector");
  EXPECT_EQ(ErrorOf(base + "receipt_id_format = \"octal\""),
            "connectors.smsc.receipt_id_format: must be \"string\", \"hex\" or \"decimal\"");
  EXPECT_EQ(ErrorOf(base + "mo_reassembly_timeout_ms = 50"),
            "connectors.smsc.mo_reassembly_timeout_ms: must be an integer between 100 and 3600000");
  EXPECT_EQ(ErrorOf(base + "mo_reassembly_max_messages = 0"),
            "connectors.smsc.mo_reassembly_max_messages: must be an integer between 1 and 1000000");
  EXPECT_EQ(ErrorOf(base + "source_ton = 9"),
            "connectors.smsc.source_ton: must be an integer between 0 and 6");
  EXPECT_EQ(ErrorOf("type = \"smpp\"\nhost = \"h\"\nport = 1\nsystem_id = \"\""),
            "connectors.smsc.system_id: must not be empty");
}

TEST(SmppConfigTest, PasswordNeverInErrors) {
  // A bad password is reported by its length only.
  const std::string msg = ErrorOf(std::string(kMinimal) + "password = \"verysecretpw\"");
  EXPECT_EQ(msg.find("verysecretpw"), std::string::npos) << msg;
}

}  // namespace
}  // namespace herald::channels::smpp
