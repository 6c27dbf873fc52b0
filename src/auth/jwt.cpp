#include "auth/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>
#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace herald::auth {

namespace json = boost::json;

namespace {

constexpr size_t kMaxTokenBytes = 8 * 1024;
constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

tl::unexpected<Error> Unauth(std::string message) {
  return MakeError(Errc::kUnauthenticated, std::move(message));
}

// Counts the members of the top-level object in already-valid JSON text. Boost.JSON keeps only
// one of duplicate keys, so comparing this count with the parsed object's size reveals them.
size_t CountTopLevelKeys(std::string_view text) {
  size_t count = 0;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool expect_key = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        if (depth == 1 && expect_key) {
          ++count;
          expect_key = false;
        }
        break;
      case '{':
      case '[':
        ++depth;
        if (depth == 1 && c == '{') expect_key = true;
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        if (depth == 1) expect_key = true;
        break;
      default:
        break;
    }
  }
  return count;
}

Result<json::object> ParseObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Unauth("JWT " + std::string(what) + " is not a JSON object.");
  if (CountTopLevelKeys(text) != v.get_object().size()) {
    return Unauth("JWT " + std::string(what) + " has duplicate keys.");
  }
  return std::move(v.get_object());
}

// An integral JSON number as int64, or nullopt.
std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<std::string> DecodeWith(std::string_view text, const char* alphabet,
                                      bool allow_padding) {
  std::array<int, 256> index;
  index.fill(-1);
  for (int i = 0; i < 64; ++i) index[static_cast<unsigned char>(alphabet[i])] = i;
  if (allow_padding) {
    if (text.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    while (pad < 2 && !text.empty() && text.back() == '=') {
      text.remove_suffix(1);
      ++pad;
    }
  }
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = index[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Canonical encodings leave no set bits behind.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Sign(EVP_PKEY* key, std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return {};
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return {};
  }
  sig.resize(len);
  return sig;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kUrlAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kUrlAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return DecodeWith(text, kUrlAlphabet, false);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  return DecodeWith(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    true);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

Result<RsaPublicKey> RsaPublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return MakeError(Errc::kInvalidArgument, "not a PEM public key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key.get()) < 2048) {
    return MakeError(Errc::kInvalidArgument, "public key must be RSA of at least 2048 bits");
  }
  RsaPublicKey out;
  out.key_ = std::shared_ptr<void>(key.release(),
                                   [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  return out;
}

Result<RsaKeyPair> GenerateRsaKeyPair(int bits) {
  PkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (!key) return MakeError(Errc::kInternal, "RSA key generation failed");
  auto to_pem = [&key](bool private_key) -> std::string {
    BioPtr bio(BIO_new(BIO_s_mem()));
    int ok = private_key
                 ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr)
                 : PEM_write_bio_PUBKEY(bio.get(), key.get());
    if (ok != 1) return {};
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  };
  RsaKeyPair out{to_pem(true), to_pem(false)};
  if (out.private_key_pem.empty() || out.public_key_pem.empty()) {
    return MakeError(Errc::kInternal, "PEM encoding failed");
  }
  return out;
}

Result<UnverifiedJwt> ParseClientJwt(std::string_view token) {
  if (token.empty()) return Unauth("Empty token.");
  if (token.size() > kMaxTokenBytes) return Unauth("JWT is larger than 8 KiB.");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauth("JWT must have three parts.");
  }
  auto header_text = Base64UrlDecode(token.substr(0, dot1));
  auto payload_text = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return Unauth("JWT is not valid base64url.");
  if (signature->empty()) return Unauth("JWT has no signature.");

  HERALD_ASSIGN_OR_RETURN(json::object header, ParseObject(*header_text, "header"));
  const json::value* alg = header.if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != "RS256") {
    return Unauth("JWT alg must be RS256.");
  }
  if (const json::value* typ = header.if_contains("typ")) {
    if (!typ->is_string() || typ->get_string() != "JWT") return Unauth("JWT typ must be JWT.");
  }
  for (const char* refused : {"jwk", "jku", "x5u", "x5c", "x5t", "crit"}) {
    if (header.contains(refused)) {
      return Unauth(std::string("JWT header '") + refused + "' is not accepted.");
    }
  }

  HERALD_ASSIGN_OR_RETURN(json::object claims, ParseObject(*payload_text, "claims"));
  UnverifiedJwt out;
  const json::value* app = claims.if_contains("application_id");
  if (!app || !app->is_string() || app->get_string().empty()) {
    return Unauth("JWT claim application_id is missing or not a string.");
  }
  out.claims.application_id = std::string(app->get_string());
  const json::value* jti = claims.if_contains("jti");
  if (!jti || !jti->is_string() || jti->get_string().empty()) {
    return Unauth("JWT claim jti is missing or not a string.");
  }
  out.claims.jti = std::string(jti->get_string());
  const json::value* iat = claims.if_contains("iat");
  auto iat_value = iat ? AsInt(*iat) : std::nullopt;
  if (!iat_value) return Unauth("JWT claim iat is missing or not an integer.");
  out.claims.iat = *iat_value;
  for (auto [name, slot] : {std::pair{"exp", &out.claims.exp}, std::pair{"nbf", &out.claims.nbf}}) {
    if (const json::value* v = claims.if_contains(name)) {
      auto n = AsInt(*v);
      if (!n) return Unauth(std::string("JWT claim ") + name + " is not an integer.");
      *slot = *n;
    }
  }
  out.signing_input = std::string(token.substr(0, dot2));
  out.signature = std::move(*signature);
  return out;
}

Result<ClientClaims> VerifyClientJwt(const UnverifiedJwt& jwt, const RsaPublicKey& key,
                                     int64_t now_seconds, const TimePolicy& policy) {
  auto* pkey = static_cast<EVP_PKEY*>(const_cast<void*>(key.native()));
  if (!pkey || jwt.signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) {
    return Unauth("JWT signature is invalid.");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                       jwt.signature.size(),
                       reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                       jwt.signing_input.size()) != 1) {
    return Unauth("JWT signature is invalid.");
  }
  const ClientClaims& c = jwt.claims;
  const int64_t leeway = policy.leeway_seconds;
  if (c.exp && now_seconds > *c.exp + leeway) return Unauth("JWT has expired.");
  if (c.nbf && *c.nbf > now_seconds + leeway) return Unauth("JWT is not valid yet (nbf).");
  if (c.iat > now_seconds + leeway) return Unauth("JWT iat is in the future.");
  if (c.exp && *c.exp - c.iat > policy.max_lifetime_seconds) {
    return Unauth("JWT lifetime exceeds 24 hours.");
  }
  if (!c.exp && now_seconds - c.iat > policy.max_lifetime_seconds + leeway) {
    return Unauth("JWT without exp is older than 24 hours.");
  }
  return c;
}

std::string SignHs256(std::string_view claims_json, std::string_view secret) {
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len));
}

Result<std::string> SignRs256(std::string_view claims_json, std::string_view private_key_pem) {
  BioPtr bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return MakeError(Errc::kInvalidArgument, "not a PEM private key");
  std::string input = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(claims_json);
  std::string sig = Sign(key.get(), input);
  if (sig.empty()) return MakeError(Errc::kInternal, "RS256 signing failed");
  return input + "." + Base64UrlEncode(sig);
}

}  // namespace herald::auth
