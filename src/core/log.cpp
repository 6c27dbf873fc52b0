#include "core/log.hpp"

#include <spdlog/spdlog.h>

namespace herald {

std::string MaskAddress(std::string_view address) {
  if (address.size() <= 6) return std::string(address.size(), '*');
  std::string out(address.substr(0, 4));
  out.append(address.size() - 6, '*');
  out.append(address.substr(address.size() - 2));
  return out;
}

std::string SanitizeForLog(std::string_view value, size_t max_length) {
  std::string out;
  out.reserve(std::min(value.size(), max_length));
  for (char c : value) {
    if (out.size() >= max_length) break;
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  return out;
}

bool SetLogLevel(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  spdlog::set_level(lvl);
  return true;
}

}  // namespace herald
