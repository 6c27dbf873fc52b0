#include "app/config.hpp"

#include <cstdio>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace herald::app {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/herald-config-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, ParsesListenForms) {
  ServeConfig c;
  ASSERT_TRUE(ParseListen("0.0.0.0:9000", c));
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  ASSERT_TRUE(ParseListen("[::1]:0", c));
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 0);
  ASSERT_TRUE(ParseListen(":81", c));
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_FALSE(ParseListen("localhost", c));
  EXPECT_FALSE(ParseListen("h:99999", c));
  EXPECT_FALSE(ParseListen("h:8x", c));
}

TEST(ConfigTest, TomlThenEnvironmentOverride) {
  std::string path = WriteTemp(
      "listen = \"127.0.0.1:7000\"\ndata_dir = \"/tmp/x\"\nio_threads = 2\n"
      "admin_token = \"0123456789abcdef\"\n");
  ServeConfig c;
  ASSERT_TRUE(ApplyTomlFile(path, c));
  EXPECT_EQ(c.listen_port, 7000);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.io_threads, 2);
  std::map<std::string, std::string> env{{"HERALD_LISTEN", "127.0.0.1:7001"},
                                         {"HERALD_IO_THREADS", "3"}};
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ASSERT_TRUE(ApplyEnvironment(c, getenv));
  EXPECT_EQ(c.listen_port, 7001);
  EXPECT_EQ(c.io_threads, 3);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_TRUE(Validate(c));
  std::remove(path.c_str());
}

TEST(ConfigTest, RejectsUnknownKeysAndWrongTypesWithTheKeyName) {
  ServeConfig c;
  std::string unknown = WriteTemp("lisen = \"x\"\n");
  auto r = ApplyTomlFile(unknown, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown key 'lisen'"), std::string::npos);
  std::string wrong = WriteTemp("io_threads = \"two\"\n");
  r = ApplyTomlFile(wrong, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'io_threads' must be an integer"), std::string::npos);
  std::string broken = WriteTemp("listen = \n");
  EXPECT_FALSE(ApplyTomlFile(broken, c));
  for (auto& p : {unknown, wrong, broken}) std::remove(p.c_str());
}

TEST(ConfigTest, ValidateChecksRanges) {
  ServeConfig c;
  EXPECT_TRUE(Validate(c));
  c.io_threads = 0;
  EXPECT_FALSE(Validate(c));
  c = ServeConfig{};
  c.sqlite_synchronous = "OFF";
  EXPECT_FALSE(Validate(c));
  c = ServeConfig{};
  c.admin_token = "short";
  EXPECT_FALSE(Validate(c));
  c = ServeConfig{};
  c.log_level = "loud";
  EXPECT_FALSE(Validate(c));
}

TEST(ConfigTest, SqliteSyncSeparatelyFromTomlAndEnvironment) {
  ServeConfig c;
  EXPECT_TRUE(c.sqlite_sync_separately);  // decision 0012
  std::string off = WriteTemp("sqlite_sync_separately = false\n");
  ASSERT_TRUE(ApplyTomlFile(off, c));
  EXPECT_FALSE(c.sqlite_sync_separately);
  std::string wrong = WriteTemp("sqlite_sync_separately = \"no\"\n");
  auto r = ApplyTomlFile(wrong, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'sqlite_sync_separately' must be a boolean"),
            std::string::npos)
      << r.error().message;
  std::map<std::string, std::string> env{{"HERALD_SQLITE_SYNC_SEPARATELY", "true"}};
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ASSERT_TRUE(ApplyEnvironment(c, getenv));
  EXPECT_TRUE(c.sqlite_sync_separately);
  env["HERALD_SQLITE_SYNC_SEPARATELY"] = "sometimes";
  r = ApplyEnvironment(c, getenv);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HERALD_SQLITE_SYNC_SEPARATELY"), std::string::npos);
  for (auto& p : {off, wrong}) std::remove(p.c_str());
}

TEST(ConfigTest, WebhookSsrfGuardIsOffByDefault) {
  ServeConfig c;
  EXPECT_FALSE(c.webhook_address_policy.block_private);
  EXPECT_TRUE(c.webhook_address_policy.allowed_subnets.empty());
}

TEST(ConfigTest, WebhookSsrfGuardFromToml) {
  std::string path = WriteTemp(
      "[webhooks]\nblock_private_addresses = true\n"
      "allowed_subnets = [\"127.0.0.0/8\", \"fd00::/8\", \"10.1.2.3\"]\n");
  ServeConfig c;
  auto r = ApplyTomlFile(path, c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(c.webhook_address_policy.block_private);
  ASSERT_EQ(c.webhook_address_policy.allowed_subnets.size(), 3u);
  EXPECT_EQ(c.webhook_address_policy.allowed_subnets[0].ToString(), "127.0.0.0/8");
  EXPECT_EQ(c.webhook_address_policy.allowed_subnets[1].ToString(), "fd00::/8");
  EXPECT_EQ(c.webhook_address_policy.allowed_subnets[2].ToString(), "10.1.2.3/32");
  EXPECT_TRUE(Validate(c));
  std::remove(path.c_str());
}

TEST(ConfigTest, WebhookSsrfGuardBadValuesAreStartupErrorsNamingTheKey) {
  struct Case {
    const char* toml;
    const char* says;
  };
  for (const Case& k : {
           Case{"[webhooks]\nblock_private_addresses = \"yes\"\n",
                "'webhooks.block_private_addresses' must be true or false"},
           Case{"[webhooks]\nallowed_subnets = \"10.0.0.0/8\"\n",
                "'webhooks.allowed_subnets' must be an array of CIDR strings"},
           Case{"[webhooks]\nallowed_subnets = [10]\n",
                "'webhooks.allowed_subnets' must be an array of CIDR strings"},
           Case{"[webhooks]\nallowed_subnets = [\"10.0.0.0/8\", \"10.0.0.1/8\"]\n",
                "webhooks.allowed_subnets: '10.0.0.1/8': host bits are set past /8 (did you "
                "mean 10.0.0.0/8?)"},
           Case{"[webhooks]\nallowed_subnets = [\"10.0.0.0/40\"]\n",
                "webhooks.allowed_subnets: '10.0.0.0/40': the prefix length must be 0..32"},
           Case{"[webhooks]\nallowed_subnets = [\"intranet\"]\n",
                "webhooks.allowed_subnets: 'intranet': 'intranet' is not an IPv4 address"},
           Case{"[webhooks]\nallowed_subnets = [\"127.1/8\"]\n",
                "webhooks.allowed_subnets: '127.1/8': '127.1' is not an IPv4 address"},
       }) {
    std::string path = WriteTemp(k.toml);
    ServeConfig c;
    auto r = ApplyTomlFile(path, c);
    ASSERT_FALSE(r) << k.toml;
    EXPECT_NE(r.error().message.find(k.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind(path, 0), 0u) << "names the file: " << r.error().message;
    std::remove(path.c_str());
  }
}

TEST(ConfigTest, WebhookSsrfGuardFromEnvironment) {
  std::map<std::string, std::string> env{
      {"HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES", "true"},
      {"HERALD_WEBHOOKS_ALLOWED_SUBNETS", " 127.0.0.0/8, ::1/128 ,"}};
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ServeConfig c;
  ASSERT_TRUE(ApplyEnvironment(c, getenv));
  EXPECT_TRUE(c.webhook_address_policy.block_private);
  ASSERT_EQ(c.webhook_address_policy.allowed_subnets.size(), 2u);
  EXPECT_EQ(c.webhook_address_policy.allowed_subnets[1].ToString(), "::1/128");

  env["HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"] = "0";
  env["HERALD_WEBHOOKS_ALLOWED_SUBNETS"] = "";
  ASSERT_TRUE(ApplyEnvironment(c, getenv));
  EXPECT_FALSE(c.webhook_address_policy.block_private);
  EXPECT_TRUE(c.webhook_address_policy.allowed_subnets.empty());

  env["HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"] = "on";
  auto r = ApplyEnvironment(c, getenv);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES: 'on' must be true"),
            std::string::npos)
      << r.error().message;

  env["HERALD_WEBHOOKS_BLOCK_PRIVATE_ADDRESSES"] = "1";
  env["HERALD_WEBHOOKS_ALLOWED_SUBNETS"] = "10.0.0.0/8,192.168.1.1/16";
  r = ApplyEnvironment(c, getenv);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HERALD_WEBHOOKS_ALLOWED_SUBNETS: '192.168.1.1/16': host bits "
                                   "are set past /16 (did you mean 192.168.0.0/16?)"),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace herald::app
