#include "auth/credentials.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/jwt.hpp"
#include "core/random.hpp"

namespace herald::auth {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr std::string_view kHashPrefix = "s1$";
// "s1$" + 32 hex (salt) + "$" + 64 hex (SHA-256).
constexpr size_t kHashLength = kHashPrefix.size() + 2 * kSaltBytes + 1 + 64;

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is never written by HashApiSecret, so it is malformed here
}

// Lower-case hex to bytes; false on any other character or an odd length.
template <size_t N>
bool FromHex(std::string_view hex, std::array<unsigned char, N>& out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  return true;
}

// SHA-256(salt || secret), without building the concatenation.
bool SaltedDigest(std::string_view salt, std::string_view secret,
                  std::array<unsigned char, 32>& digest) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
                  EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest.data(), &len) == 1 && len == digest.size();
  EVP_MD_CTX_free(ctx);
  return ok;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `header_value` starts with `scheme` (lower-case, ASCII case-insensitive match) followed by at
// least one space; returns the rest with surrounding spaces/tabs trimmed.
std::optional<std::string_view> AfterScheme(std::string_view header_value,
                                            std::string_view scheme) {
  if (header_value.size() <= scheme.size() || header_value[scheme.size()] != ' ') {
    return std::nullopt;
  }
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (AsciiLower(header_value[i]) != scheme[i]) return std::nullopt;
  }
  std::string_view rest = header_value.substr(scheme.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return rest;
}

}  // namespace

ApiCredentials GenerateApiCredentials() {
  // The key is an identifier (Vonage's 8-hex shape); the 24 alphanumerics carry ~143 bits.
  return {RandomHex(8), RandomAlnum(24)};
}

std::string GenerateSignatureSecret() { return RandomAlnum(43); }  // 43 * log2(62) ~ 256 bits

std::string HashApiSecret(std::string_view secret) {
  // A per-secret salt makes equal secrets hash differently; SHA-256 alone is enough because the
  // secrets are random and long, not passwords (reliability.md §4.3).
  const std::string salt = RandomBytes(kSaltBytes);
  std::array<unsigned char, 32> digest{};
  if (!SaltedDigest(salt, secret, digest)) return {};  // allocation failure: verifies nothing
  std::string out;
  out.reserve(kHashLength);
  out += kHashPrefix;
  out += ToHex(salt);
  out.push_back('$');
  out += ToHex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return out;
}

bool VerifyApiSecret(std::string_view secret, std::string_view stored_hash) {
  if (stored_hash.size() != kHashLength || !stored_hash.starts_with(kHashPrefix) ||
      stored_hash[kHashPrefix.size() + 2 * kSaltBytes] != '$') {
    return false;
  }
  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, 32> expected{};
  if (!FromHex(stored_hash.substr(kHashPrefix.size(), 2 * kSaltBytes), salt) ||
      !FromHex(stored_hash.substr(kHashPrefix.size() + 2 * kSaltBytes + 1), expected)) {
    return false;
  }
  std::array<unsigned char, 32> actual{};
  if (!SaltedDigest(std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()),
                    secret, actual)) {
    return false;
  }
  // Constant time, so response timing says nothing about how much of the digest matched.
  return CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header_value) {
  auto encoded = AfterScheme(header_value, "basic");
  if (!encoded) return std::nullopt;
  auto decoded = Base64Decode(*encoded);
  if (!decoded) return std::nullopt;
  // The user (api_key) cannot contain ':', the password may (RFC 7617 §2).
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  BasicCredentials out;
  out.password = decoded->substr(colon + 1);
  decoded->resize(colon);
  out.user = std::move(*decoded);
  return out;
}

std::optional<std::string_view> ParseBearerAuthorization(std::string_view header_value) {
  auto token = AfterScheme(header_value, "bearer");
  if (!token || token->empty()) return std::nullopt;
  return token;
}

}  // namespace herald::auth
