// Identifiers and secrets. All functions are thread-safe.
//
// Randomness comes from OpenSSL's CSPRNG (RAND_bytes): ids are unguessable (tenant isolation
// relies on it) and secrets are suitable as credentials.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald {

// Lower-case RFC 4122 version-4 UUID, e.g. "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab".
std::string NewUuid();
// Lower-case RFC 9562 version-7 UUID: 48 bits of `unix_ms`, then 74 random bits. Ids minted
// later sort after earlier ones, so B-tree indexes keyed by them grow at their right edge
// (a commit dirties a few pages instead of one random leaf per row). Still unguessable.
std::string NewUuidV7(int64_t unix_ms);
// `length` (>= 9) characters of [0-9A-Za-z]: `unix_ms` in 9 base-62 digits (ASCII order, so
// ids sort by time), then random characters drawn uniformly.
std::string TimeOrderedAlnum(int64_t unix_ms, size_t length);
// True if `s` has the canonical 8-4-4-4-12 lower/upper hex form.
bool IsUuid(std::string_view s);
// `length` characters drawn uniformly from [0-9A-Za-z].
std::string RandomAlnum(size_t length);
// `length` lower-case hex characters.
std::string RandomHex(size_t length);
// Random bytes (for salts and keys).
std::string RandomBytes(size_t length);

}  // namespace herald
