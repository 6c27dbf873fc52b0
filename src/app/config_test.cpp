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

}  // namespace
}  // namespace herald::app
