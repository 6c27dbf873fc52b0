// The [connectors.*] examples in docs/connectors/*.md are valid configurations (issue 5 item 6):
// every ```toml block is parsed and each connector table is checked by
// ValidateConnectorSettings, with the docs' "…" placeholders filled in.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "channels/factory.hpp"

namespace herald::channels {
namespace {

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(ConnectorDocsTest, EveryTomlExampleValidates) {
  const std::filesystem::path dir = std::filesystem::path(HERALD_SOURCE_DIR) / "docs" / "connectors";
  auto keys = auth::GenerateRsaKeyPair();
  ASSERT_TRUE(keys);
  const std::filesystem::path key_file = std::filesystem::temp_directory_path() / "herald-docs-test.key";
  { std::ofstream(key_file) << keys->private_key_pem; }
  // The RBM page's service-account key file.
  const std::filesystem::path sa_file =
      std::filesystem::temp_directory_path() / "herald-docs-test-service-account.json";
  {
    std::string pem = keys->private_key_pem;
    std::string escaped;
    for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    std::ofstream(sa_file) << R"({"type":"service_account","client_email":"herald@p.iam.gserviceaccount.com",)"
                           << R"("token_uri":"https://oauth2.googleapis.com/token","private_key":")"
                           << escaped << "\"}";
  }
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".md") continue;
    std::string doc = Read(entry.path());
    for (size_t at = doc.find("```toml\n"); at != std::string::npos; at = doc.find("```toml\n", at)) {
      size_t start = at + 8;
      size_t end = doc.find("```", start);
      ASSERT_NE(end, std::string::npos) << entry.path();
      std::string text = doc.substr(start, end - start);
      at = end + 3;
      text = ReplaceAll(text, "\"…\"", "\"placeholder-secret-0123456789\"");
      text = ReplaceAll(text, "# …", "#");
      text = ReplaceAll(text, "\"/etc/herald/vonage.key\"", "\"" + key_file.string() + "\"");
      text = ReplaceAll(text, "\"/etc/herald/rbm-service-account.json\"", "\"" + sa_file.string() + "\"");
      text = ReplaceAll(text, "…\"", "placeholder\"");
      toml::table root;
      try {
        root = toml::parse(text);
      } catch (const toml::parse_error& e) {
        FAIL() << entry.path() << ": " << e.what() << "\n" << text;
      }
      const toml::table* connectors = root["connectors"].as_table();
      if (connectors == nullptr) continue;
      for (auto&& [name, node] : *connectors) {
        ASSERT_TRUE(node.is_table());
        auto ok = ValidateConnectorSettings(std::string(name.str()), *node.as_table());
        EXPECT_TRUE(ok) << entry.path() << ": " << ok.error().message;
        ++checked;
      }
    }
  }
  std::filesystem::remove(key_file);
  std::filesystem::remove(sa_file);
  EXPECT_GE(checked, 8);
}

}  // namespace
}  // namespace herald::channels
