// Logging helpers. Logging itself is spdlog (the default logger); these helpers keep personal
// data and secrets out of log lines (reliability.md §4.7).
#pragma once

#include <string>
#include <string_view>

namespace herald {

// "447700900123" -> "4477******23": keeps the first 4 and last 2 characters of a number or id.
std::string MaskAddress(std::string_view address);
// Replaces CR, LF and other control characters so a value cannot forge log lines.
std::string SanitizeForLog(std::string_view value, size_t max_length = 200);
// Sets the default logger's level from a name ("trace".."off"); false if the name is unknown.
bool SetLogLevel(std::string_view level);

}  // namespace herald
