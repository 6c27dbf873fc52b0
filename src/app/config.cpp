#include "app/config.hpp"

#include <charconv>
#include <filesystem>
#include <system_error>

#include <toml++/toml.h>

namespace herald::app {

namespace {

Result<int64_t> ParseInt(std::string_view text, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return MakeError(Errc::kInvalidArgument,
                     std::string(what) + ": '" + std::string(text) + "' is not an integer");
  }
  return v;
}

}  // namespace

Result<void> ParseListen(std::string_view text, ServeConfig& config) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(Errc::kInvalidArgument,
                     "listen: '" + std::string(text) + "' must be HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  HERALD_ASSIGN_OR_RETURN(int64_t port, ParseInt(text.substr(colon + 1), "listen port"));
  if (port < 0 || port > 65535) {
    return MakeError(Errc::kInvalidArgument, "listen: port must be 0..65535");
  }
  config.listen_host = host.empty() ? "127.0.0.1" : std::string(host);
  config.listen_port = static_cast<uint16_t>(port);
  return {};
}

Result<void> ApplyTomlFile(const std::string& path, ServeConfig& config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return MakeError(Errc::kInvalidArgument,
                     path + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
  }
  auto type_error = [&path](std::string_view key, std::string_view type) {
    return MakeError(Errc::kInvalidArgument,
                     path + ": '" + std::string(key) + "' must be " + std::string(type));
  };
  for (auto&& [key, node] : table) {
    std::string_view k = key.str();
    if (k == "listen") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      HERALD_RETURN_IF_ERROR(ParseListen(*v, config));
    } else if (k == "data_dir") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.data_dir = *v;
    } else if (k == "io_threads") {
      auto v = node.value<int64_t>();
      if (!v) return type_error(k, "an integer");
      config.io_threads = static_cast<int>(*v);
    } else if (k == "admin_token") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.admin_token = *v;
    } else if (k == "log_level") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.log_level = *v;
    } else if (k == "max_body_bytes") {
      auto v = node.value<int64_t>();
      if (!v || *v <= 0) return type_error(k, "a positive integer");
      config.max_body_bytes = static_cast<size_t>(*v);
    } else if (k == "sqlite_synchronous") {
      auto v = node.value<std::string>();
      if (!v) return type_error(k, "a string");
      config.sqlite_synchronous = *v;
    } else {
      return MakeError(Errc::kInvalidArgument, path + ": unknown key '" + std::string(k) + "'");
    }
  }
  return {};
}

Result<void> ApplyEnvironment(ServeConfig& config,
                              const std::function<const char*(const char*)>& getenv) {
  if (const char* v = getenv("HERALD_LISTEN")) HERALD_RETURN_IF_ERROR(ParseListen(v, config));
  if (const char* v = getenv("HERALD_DATA_DIR")) config.data_dir = v;
  if (const char* v = getenv("HERALD_IO_THREADS")) {
    HERALD_ASSIGN_OR_RETURN(int64_t n, ParseInt(v, "HERALD_IO_THREADS"));
    config.io_threads = static_cast<int>(n);
  }
  if (const char* v = getenv("HERALD_ADMIN_TOKEN")) config.admin_token = v;
  if (const char* v = getenv("HERALD_LOG_LEVEL")) config.log_level = v;
  if (const char* v = getenv("HERALD_MAX_BODY_BYTES")) {
    HERALD_ASSIGN_OR_RETURN(int64_t n, ParseInt(v, "HERALD_MAX_BODY_BYTES"));
    if (n <= 0) return MakeError(Errc::kInvalidArgument, "HERALD_MAX_BODY_BYTES must be > 0");
    config.max_body_bytes = static_cast<size_t>(n);
  }
  if (const char* v = getenv("HERALD_SQLITE_SYNCHRONOUS")) config.sqlite_synchronous = v;
  return {};
}

Result<void> Validate(const ServeConfig& config) {
  if (config.io_threads < 1 || config.io_threads > 64) {
    return MakeError(Errc::kInvalidArgument, "io_threads must be 1..64");
  }
  if (config.data_dir.empty()) return MakeError(Errc::kInvalidArgument, "data_dir is empty");
  if (config.sqlite_synchronous != "FULL" && config.sqlite_synchronous != "NORMAL") {
    return MakeError(Errc::kInvalidArgument, "sqlite_synchronous must be FULL or NORMAL");
  }
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn",
                                                 "error", "critical", "off"};
  bool ok = false;
  for (auto l : kLevels) ok = ok || l == config.log_level;
  if (!ok) {
    return MakeError(Errc::kInvalidArgument,
                     "log_level must be trace, debug, info, warn, error, critical or off");
  }
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    return MakeError(Errc::kInvalidArgument, "admin_token must be at least 16 characters");
  }
  return {};
}

std::string DatabasePath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "herald.db").string();
}

Result<void> EnsureDataDir(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return MakeError(Errc::kUnavailable,
                     "cannot create data directory " + data_dir + ": " + ec.message());
  }
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return {};
}

}  // namespace herald::app
