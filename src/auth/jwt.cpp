#include "auth/jwt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace herald::auth {

namespace {

constexpr size_t kMaxTokenBytes = 8 * 1024;
// Claims outside [0, year 9999] are nonsense for Unix seconds; refusing them at parse time also
// keeps every time comparison far from int64 overflow.
constexpr int64_t kMaxNumericDate = 253'402'300'799;  // 9999-12-31T23:59:59Z

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using DecodeTable = std::array<int8_t, 256>;
constexpr DecodeTable MakeDecodeTable(std::string_view alphabet) {
  DecodeTable table{};
  for (auto& v : table) v = -1;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr DecodeTable kUrlDecode = MakeDecodeTable(kUrlAlphabet);
constexpr DecodeTable kStdDecode = MakeDecodeTable(kStdAlphabet);

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

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

tl::unexpected<Error> Unauth(std::string message) {
  return MakeError(Errc::kUnauthenticated, std::move(message));
}

// Strict decoder shared by both alphabets. Rejects characters outside the alphabet, a length
// that no encoding produces (4n+1), and non-zero leftover bits: each byte string then has exactly
// one accepted encoding, so nobody can vary a token's text while keeping its meaning.
// Works a quantum (4 characters -> 3 bytes) at a time into a pre-sized buffer; this is on the
// path of every authenticated request.
std::optional<std::string> DecodeStrict(std::string_view text, const DecodeTable& table) {
  const size_t tail = text.size() % 4;
  if (tail == 1) return std::nullopt;
  const size_t full = text.size() - tail;
  std::string out(full / 4 * 3 + (tail == 0 ? 0 : tail - 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int invalid = 0;  // table entries are -1 for characters outside the alphabet
  for (size_t i = 0; i < full; i += 4, o += 3) {
    const int a = table[in[i]], b = table[in[i + 1]], c = table[in[i + 2]], d = table[in[i + 3]];
    invalid |= a | b | c | d;
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  if (tail >= 2) {
    const int a = table[in[full]], b = table[in[full + 1]];
    const int c = tail == 3 ? table[in[full + 2]] : 0;
    invalid |= a | b | c;
    if (invalid >= 0) {
      o[0] = static_cast<unsigned char>((a << 2) | (b >> 4));
      if (tail == 2 && (b & 0x0f) != 0) return std::nullopt;
      if (tail == 3) {
        o[1] = static_cast<unsigned char>(((b & 0x0f) << 4) | (c >> 2));
        if ((c & 0x03) != 0) return std::nullopt;
      }
    }
  }
  if (invalid < 0) return std::nullopt;
  return out;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}
int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

// ---- JSON ------------------------------------------------------------------------------------
//
// Boost.JSON's DOM parser silently keeps one of two duplicate keys, and RFC 7515 §5.2 / RFC 8725
// want such tokens refused (two parsers could read different claims). So the header and claims
// go through a SAX handler instead: it refuses duplicate keys at every depth, refuses a root that
// is not an object, and captures only the top-level members we read, without building a DOM.

// A top-level member's value as far as we care: strings and integral numbers are kept, anything
// else (bool, null, array, object, fractional or huge number) is only "present, other type".
struct Member {
  enum class Kind : uint8_t { kAbsent, kString, kInteger, kOther };
  Kind kind = Kind::kAbsent;
  std::string text;
  int64_t integer = 0;
};

enum class ScanFailure : uint8_t { kNone, kNotObject, kDuplicateKey };

template <size_t N>
class MemberScanner {
 public:
  static constexpr size_t max_object_size = std::numeric_limits<size_t>::max();
  static constexpr size_t max_array_size = std::numeric_limits<size_t>::max();
  static constexpr size_t max_key_size = std::numeric_limits<size_t>::max();
  static constexpr size_t max_string_size = std::numeric_limits<size_t>::max();

  explicit MemberScanner(const std::array<std::string_view, N>& names) : names_(names) {
    keys_.reserve(16);
    frames_.reserve(4);
  }

  std::array<Member, N>& members() { return members_; }
  ScanFailure failure() const { return failure_; }

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }

  bool on_object_begin(boost::json::error_code&) {
    // A nested object is "present, other type" for the member it is the value of (so that
    // e.g. a "jwk" object is noticed).
    if (Member* m = Capture()) m->kind = Member::Kind::kOther;
    frames_.push_back(keys_.size());
    ++depth_;
    return true;
  }
  bool on_object_end(size_t, boost::json::error_code& ec) {
    // Sorting at the end keeps duplicate detection O(n log n) for hostile inputs with many keys.
    auto first = keys_.begin() + static_cast<std::ptrdiff_t>(frames_.back());
    std::sort(first, keys_.end());
    if (std::adjacent_find(first, keys_.end()) != keys_.end()) {
      return Fail(ScanFailure::kDuplicateKey, ec);
    }
    keys_.erase(first, keys_.end());
    frames_.pop_back();
    --depth_;
    return true;
  }
  bool on_array_begin(boost::json::error_code& ec) {
    if (!Other(ec)) return false;
    ++depth_;
    return true;
  }
  bool on_array_end(size_t, boost::json::error_code&) {
    --depth_;
    return true;
  }

  bool on_key_part(boost::json::string_view s, size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    if (depth_ == 1) {
      target_ = nullptr;
      for (size_t i = 0; i < N; ++i) {
        if (names_[i] == key_) target_ = &members_[i];
      }
    }
    keys_.push_back(std::move(key_));
    key_.clear();
    return true;
  }

  // Long or escaped strings arrive in parts; only the first part starts the value.
  bool on_string_part(boost::json::string_view s, size_t, boost::json::error_code& ec) {
    if (!in_string_) {
      if (depth_ == 0) return Fail(ScanFailure::kNotObject, ec);
      in_string_ = true;
      string_target_ = Capture();
      if (string_target_ != nullptr) string_target_->kind = Member::Kind::kString;
    }
    if (string_target_ != nullptr) string_target_->text.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, size_t n, boost::json::error_code& ec) {
    if (!on_string_part(s, n, ec)) return false;
    in_string_ = false;
    string_target_ = nullptr;
    return true;
  }

  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(int64_t i, boost::json::string_view, boost::json::error_code& ec) {
    return Integer(i, ec);
  }
  bool on_uint64(uint64_t u, boost::json::string_view, boost::json::error_code& ec) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Other(ec);
    return Integer(static_cast<int64_t>(u), ec);
  }
  bool on_double(double d, boost::json::string_view, boost::json::error_code& ec) {
    // Some encoders write whole seconds as 1.8e9 or 1800000000.0; accept those, not fractions.
    // 2^53 bounds the range where a double still denotes one integer exactly.
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
      return Integer(static_cast<int64_t>(d), ec);
    }
    return Other(ec);
  }
  bool on_bool(bool, boost::json::error_code& ec) { return Other(ec); }
  bool on_null(boost::json::error_code& ec) { return Other(ec); }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  bool Fail(ScanFailure failure, boost::json::error_code& ec) {
    failure_ = failure;
    ec = boost::json::error::syntax;
    return false;
  }
  // The wanted top-level member the value starting now belongs to, or null. Clears the target,
  // so each key's value is captured once.
  Member* Capture() { return depth_ == 1 ? std::exchange(target_, nullptr) : nullptr; }
  bool Integer(int64_t value, boost::json::error_code& ec) {
    if (depth_ == 0) return Fail(ScanFailure::kNotObject, ec);
    if (Member* m = Capture()) {
      m->kind = Member::Kind::kInteger;
      m->integer = value;
    }
    return true;
  }
  // Any value we do not read: only its presence is recorded. The root must be an object.
  bool Other(boost::json::error_code& ec) {
    if (depth_ == 0) return Fail(ScanFailure::kNotObject, ec);
    if (Member* m = Capture()) m->kind = Member::Kind::kOther;
    return true;
  }

  const std::array<std::string_view, N>& names_;
  std::array<Member, N> members_{};
  ScanFailure failure_ = ScanFailure::kNone;
  int depth_ = 0;
  bool in_string_ = false;
  Member* target_ = nullptr;
  Member* string_target_ = nullptr;
  std::string key_;
  std::vector<std::string> keys_;  // keys of the open objects, innermost last
  std::vector<size_t> frames_;     // where each open object's keys start in keys_
};

// Parses `text` as a JSON object and returns the wanted top-level members (index-aligned with
// `names`). `what` names the part ("header", "claims") in error messages.
template <size_t N>
Result<std::array<Member, N>> ScanObject(std::string_view text,
                                         const std::array<std::string_view, N>& names,
                                         std::string_view what) {
  // Default options: strict RFC 8259 (no comments, no trailing commas, valid UTF-8 only).
  boost::json::basic_parser<MemberScanner<N>> parser(boost::json::parse_options{}, names);
  boost::json::error_code ec;
  const size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().failure() == ScanFailure::kDuplicateKey) {
    return Unauth("JWT " + std::string(what) + " has duplicate keys.");
  }
  // Trailing bytes after the object (consumed < size) are refused too.
  if (ec || consumed != text.size() || !parser.done()) {
    return Unauth("JWT " + std::string(what) + " is not a JSON object.");
  }
  return std::move(parser.handler().members());
}

std::optional<int64_t> NumericDate(const Member& m) {
  if (m.kind != Member::Kind::kInteger || m.integer < 0 || m.integer > kMaxNumericDate) {
    return std::nullopt;
  }
  return m.integer;
}

// ---- OpenSSL ---------------------------------------------------------------------------------

std::string DigestSign(EVP_PKEY* key, std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(data), data.size()) != 1) {
    return {};
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(data),
                     data.size()) != 1) {
    return {};
  }
  sig.resize(len);
  return sig;
}

std::string SigningInput(std::string_view header_json, std::string_view claims_json) {
  std::string input = Base64UrlEncode(header_json);
  input.push_back('.');
  input += Base64UrlEncode(claims_json);
  return input;
}

std::string ToPem(EVP_PKEY* key, bool private_key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  // PEM_write_bio_PrivateKey writes PKCS#8 ("PRIVATE KEY"), which every Vonage SDK reads.
  const int ok =
      private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

// ---- Encoding helpers ------------------------------------------------------------------------

std::string Base64UrlEncode(std::string_view bytes) {
  const size_t full = bytes.size() / 3 * 3;
  const size_t tail = bytes.size() - full;
  std::string out(full / 3 * 4 + (tail == 0 ? 0 : tail + 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* o = out.data();
  for (size_t i = 0; i < full; i += 3, o += 4) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    o[0] = kUrlAlphabet[v >> 18];
    o[1] = kUrlAlphabet[(v >> 12) & 0x3f];
    o[2] = kUrlAlphabet[(v >> 6) & 0x3f];
    o[3] = kUrlAlphabet[v & 0x3f];
  }
  if (tail > 0) {
    const uint32_t v = (uint32_t{in[full]} << 16) | (tail == 2 ? uint32_t{in[full + 1]} << 8 : 0);
    o[0] = kUrlAlphabet[v >> 18];
    o[1] = kUrlAlphabet[(v >> 12) & 0x3f];
    if (tail == 2) o[2] = kUrlAlphabet[(v >> 6) & 0x3f];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return DecodeStrict(text, kUrlDecode);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // Padding is mandatory here (RFC 4648 §3.2; what every HTTP client sends for Basic).
  if (text.size() % 4 != 0) return std::nullopt;
  if (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return DecodeStrict(text, kStdDecode);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static constexpr char kEmpty[1] = {0};  // HMAC() wants a non-null key, even an empty one
  const void* k = key.empty() ? kEmpty : key.data();
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), Bytes(data), data.size(), mac, &len) ==
      nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

// ---- Keys ------------------------------------------------------------------------------------

Result<RsaPublicKey> RsaPublicKey::FromPem(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return MakeError(Errc::kInvalidArgument, "public key PEM is too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return MakeError(Errc::kInvalidArgument, "not a PEM public key (SPKI)");
  // EVP_PKEY_RSA only: RSA-PSS keys would sign differently, and any other type would let a
  // token's algorithm drift from RS256.
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key.get()) < 2048) {
    return MakeError(Errc::kInvalidArgument, "public key must be RSA of at least 2048 bits");
  }
  RsaPublicKey out;
  out.key_ = std::shared_ptr<void>(key.release(),
                                   [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  return out;
}

Result<RsaKeyPair> GenerateRsaKeyPair(int bits) {
  if (bits < 1024 || bits > 16384) {
    return MakeError(Errc::kInvalidArgument, "RSA key size must be 1024..16384 bits");
  }
  PkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (!key) return MakeError(Errc::kInternal, "RSA key generation failed");
  RsaKeyPair out{ToPem(key.get(), true), ToPem(key.get(), false)};
  if (out.private_key_pem.empty() || out.public_key_pem.empty()) {
    return MakeError(Errc::kInternal, "PEM encoding of the RSA key failed");
  }
  return out;
}

// ---- Client tokens ---------------------------------------------------------------------------

Result<UnverifiedJwt> ParseClientJwt(std::string_view token) {
  if (token.empty()) return Unauth("Empty JWT.");
  if (token.size() > kMaxTokenBytes) return Unauth("JWT is larger than 8 KiB.");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauth("JWT must have three dot-separated parts.");
  }

  // Header first: a token with the wrong algorithm is refused before its claims are looked at.
  auto header_json = Base64UrlDecode(token.substr(0, dot1));
  if (!header_json) return Unauth("JWT header is not valid base64url.");
  static constexpr std::array<std::string_view, 7> kHeaderNames = {"alg", "typ", "jwk", "jku",
                                                                   "x5u", "x5c", "crit"};
  HERALD_ASSIGN_OR_RETURN(auto header, ScanObject(*header_json, kHeaderNames, "header"));
  // The algorithm is fixed by the key type we hold (RSA => RS256); the header may only agree.
  if (header[0].kind != Member::Kind::kString || header[0].text != "RS256") {
    return Unauth("JWT alg must be RS256.");
  }
  if (header[1].kind != Member::Kind::kAbsent &&
      (header[1].kind != Member::Kind::kString || header[1].text != "JWT")) {
    return Unauth("JWT typ must be JWT.");
  }
  // Key material or critical extensions named by the token itself are never trusted
  // (CVE-2018-0114); the key comes only from the application record.
  for (size_t i = 2; i < kHeaderNames.size(); ++i) {
    if (header[i].kind != Member::Kind::kAbsent) {
      return Unauth("JWT header parameter '" + std::string(kHeaderNames[i]) + "' is not accepted.");
    }
  }

  auto claims_json = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims_json) return Unauth("JWT payload is not valid base64url.");
  static constexpr std::array<std::string_view, 5> kClaimNames = {"application_id", "jti", "iat",
                                                                  "exp", "nbf"};
  HERALD_ASSIGN_OR_RETURN(auto claims, ScanObject(*claims_json, kClaimNames, "claims"));

  UnverifiedJwt out;
  if (claims[0].kind != Member::Kind::kString || claims[0].text.empty()) {
    return Unauth("JWT claim application_id is missing or not a string.");
  }
  out.claims.application_id = std::move(claims[0].text);
  if (claims[1].kind != Member::Kind::kString || claims[1].text.empty()) {
    return Unauth("JWT claim jti is missing or not a string.");
  }
  out.claims.jti = std::move(claims[1].text);
  if (claims[2].kind == Member::Kind::kAbsent) return Unauth("JWT claim iat is missing.");
  auto iat = NumericDate(claims[2]);
  if (!iat) return Unauth("JWT claim iat is not an integer number of seconds.");
  out.claims.iat = *iat;
  if (claims[3].kind != Member::Kind::kAbsent) {
    out.claims.exp = NumericDate(claims[3]);
    if (!out.claims.exp) return Unauth("JWT claim exp is not an integer number of seconds.");
  }
  if (claims[4].kind != Member::Kind::kAbsent) {
    out.claims.nbf = NumericDate(claims[4]);
    if (!out.claims.nbf) return Unauth("JWT claim nbf is not an integer number of seconds.");
  }

  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) return Unauth("JWT signature is not valid base64url.");
  if (signature->empty()) return Unauth("JWT has no signature.");
  out.signature = std::move(*signature);
  out.signing_input.assign(token.data(), dot2);
  return out;
}

Result<ClientClaims> VerifyClientJwt(const UnverifiedJwt& jwt, const RsaPublicKey& key,
                                     int64_t now_seconds, const TimePolicy& policy) {
  // EVP_DigestVerify* does not modify the key; OpenSSL just lacks const in the signature.
  auto* pkey = static_cast<EVP_PKEY*>(const_cast<void*>(key.native()));
  // RSASSA-PKCS1-v1_5 signatures are exactly the modulus length (RFC 8017 §8.2.2 step 1).
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
      jwt.signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) {
    return Unauth("JWT signature is invalid.");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  // The default padding of an RSA key is PKCS#1 v1.5, which is what RS256 means.
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1 ||
      EVP_DigestVerify(ctx.get(), Bytes(jwt.signature), jwt.signature.size(),
                       Bytes(jwt.signing_input), jwt.signing_input.size()) != 1) {
    return Unauth("JWT signature is invalid.");
  }

  // Saturating arithmetic: ClientClaims may come from callers, not only from ParseClientJwt.
  const ClientClaims& c = jwt.claims;
  const int64_t leeway = policy.leeway_seconds;
  const int64_t latest_accepted = SaturatingAdd(now_seconds, leeway);
  if (c.exp && SaturatingAdd(*c.exp, leeway) < now_seconds) return Unauth("JWT has expired.");
  if (c.nbf && *c.nbf > latest_accepted) return Unauth("JWT is not valid yet (nbf).");
  if (c.iat > latest_accepted) return Unauth("JWT iat is in the future.");
  if (c.exp && SaturatingSub(*c.exp, c.iat) > policy.max_lifetime_seconds) {
    return Unauth("JWT lifetime (exp - iat) is over the 24 h maximum.");
  }
  if (!c.exp &&
      SaturatingSub(now_seconds, c.iat) > SaturatingAdd(policy.max_lifetime_seconds, leeway)) {
    return Unauth("JWT has no exp and its iat is over 24 h old.");
  }
  return c;
}

// ---- Signing ---------------------------------------------------------------------------------

std::string SignHs256(std::string_view claims_json, std::string_view secret) {
  std::string token = SigningInput(R"({"alg":"HS256","typ":"JWT"})", claims_json);
  const std::string mac = HmacSha256(secret, token);
  if (mac.empty()) return {};  // Only on allocation failure; an empty token fails every verifier.
  token.push_back('.');
  token += Base64UrlEncode(mac);
  return token;
}

Result<std::string> SignRs256(std::string_view claims_json, std::string_view private_key_pem) {
  if (private_key_pem.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return MakeError(Errc::kInvalidArgument, "private key PEM is too large");
  }
  BioPtr bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return MakeError(Errc::kInvalidArgument, "not a PEM RSA private key");
  }
  std::string token = SigningInput(R"({"alg":"RS256","typ":"JWT"})", claims_json);
  const std::string sig = DigestSign(key.get(), token);
  if (sig.empty()) return MakeError(Errc::kInternal, "RS256 signing failed");
  token.push_back('.');
  token += Base64UrlEncode(sig);
  return token;
}

}  // namespace herald::auth
