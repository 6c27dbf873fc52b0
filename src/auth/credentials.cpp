#include "auth/credentials.hpp"

#include <openssl/crypto.h>

#include "auth/jwt.hpp"
#include "core/random.hpp"

namespace herald::auth {

namespace {

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

ApiCredentials GenerateApiCredentials() { return {RandomHex(8), RandomAlnum(24)}; }

std::string GenerateSignatureSecret() { return RandomAlnum(43); }

std::string HashApiSecret(std::string_view secret) {
  std::string salt = ToHex(RandomBytes(16));
  return "s1$" + salt + "$" + Sha256Hex(salt + std::string(secret));
}

bool VerifyApiSecret(std::string_view secret, std::string_view stored_hash) {
  // "s1$" + 32 hex salt + "$" + 64 hex digest
  if (stored_hash.size() != 3 + 32 + 1 + 64 || stored_hash.substr(0, 3) != "s1$" ||
      stored_hash[35] != '$') {
    return false;
  }
  std::string_view salt = stored_hash.substr(3, 32);
  std::string_view expected = stored_hash.substr(36);
  std::string actual = Sha256Hex(std::string(salt) + std::string(secret));
  return CRYPTO_memcmp(actual.data(), expected.data(), expected.size()) == 0;
}

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header_value) {
  if (!StartsWithNoCase(header_value, "basic ")) return std::nullopt;
  std::string_view encoded = header_value.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = Base64Decode(encoded);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::optional<std::string_view> ParseBearerAuthorization(std::string_view header_value) {
  if (!StartsWithNoCase(header_value, "bearer ")) return std::nullopt;
  std::string_view token = header_value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace herald::auth
