#include "core/random.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <openssl/rand.h>

namespace herald {

std::string RandomBytes(size_t length) {
  std::string out(length, '\0');
  if (length > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(length)) != 1) {
    // The CSPRNG failing is an environment failure we cannot work around.
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

namespace {

// Identifiers (not secrets) take their random bits from a small per-thread buffer that is
// refilled from RAND_bytes 4 KiB at a time: one CSPRNG call per ~100 ids instead of one per id
// (each RAND_bytes call also costs a getpid() system call for OpenSSL's fork check). The
// bytes are the same CSPRNG output, so the ids stay unguessable. A forked child discards the
// buffer it inherited, so parent and child never hand out the same bytes. Secrets, salts and
// keys (RandomBytes, RandomAlnum, RandomHex) still call RAND_bytes directly.
struct IdRandomPool {
  std::array<unsigned char, 4096> bytes{};
  size_t used = bytes.size();  // empty
};
thread_local IdRandomPool id_pool;

void DiscardIdPoolInChild() { id_pool.used = id_pool.bytes.size(); }

void IdRandom(unsigned char* out, size_t length) {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, DiscardIdPoolInChild);
    return true;
  }();
  (void)registered;
  IdRandomPool& pool = id_pool;
  while (length > 0) {
    if (pool.used == pool.bytes.size()) {
      if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
      }
      pool.used = 0;
    }
    const size_t n = std::min(length, pool.bytes.size() - pool.used);
    std::memcpy(out, pool.bytes.data() + pool.used, n);
    // Bytes handed out are not kept in the buffer.
    std::memset(pool.bytes.data() + pool.used, 0, n);
    pool.used += n;
    out += n;
    length -= n;
  }
}

std::string IdRandomBytes(size_t length) {
  std::string out(length, '\0');
  IdRandom(reinterpret_cast<unsigned char*>(out.data()), length);
  return out;
}

// "xxxxxxxx-xxxx-Vxxx-Nxxx-xxxxxxxxxxxx" of 16 bytes whose version and variant bits are set.
std::string FormatUuid(std::string b) {
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    auto c = static_cast<unsigned char>(b[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

}  // namespace

std::string NewUuid() {
  std::string b = IdRandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  return FormatUuid(std::move(b));
}

std::string NewUuidV7(int64_t unix_ms) {
  std::string b = IdRandomBytes(16);
  const auto ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  return FormatUuid(std::move(b));
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

namespace {
std::string RandomFrom(std::string_view alphabet, size_t length,
                       std::string (*random_bytes)(size_t) = RandomBytes) {
  // Rejection sampling keeps the distribution uniform.
  const size_t n = alphabet.size();
  const unsigned limit = 256 - (256 % n);
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    std::string b = random_bytes(length * 2);
    for (char ch : b) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= limit) continue;
      out.push_back(alphabet[c % n]);
      if (out.size() == length) break;
    }
  }
  return out;
}
}  // namespace

std::string RandomAlnum(size_t length) {
  return RandomFrom("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", length);
}

std::string TimeOrderedAlnum(int64_t unix_ms, size_t length) {
  static constexpr std::string_view kAlnum =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";  // ASCII order
  constexpr size_t kTimeDigits = 9;  // 62^9 ms is about 430,000 years
  std::string out(kTimeDigits, '0');
  auto ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
  for (size_t i = kTimeDigits; i-- > 0;) {
    out[i] = kAlnum[ms % kAlnum.size()];
    ms /= kAlnum.size();
  }
  if (length <= kTimeDigits) return out.substr(0, length);
  out += RandomFrom(kAlnum, length - kTimeDigits, IdRandomBytes);
  return out;
}

std::string RandomHex(size_t length) { return RandomFrom("0123456789abcdef", length); }

}  // namespace herald
