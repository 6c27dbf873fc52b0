#include "net/address_policy.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace herald::net {

namespace {

struct Range {
  IpAddress base;
  int prefix_len;
  std::string_view what;  // completes "<address> is ..."
};

IpAddress V6(std::initializer_list<uint8_t> leading) {
  IpAddress a;
  a.v6 = true;
  std::copy(leading.begin(), leading.end(), a.bytes.begin());
  return a;
}

IpAddress V4Bytes(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3) {
  IpAddress a;
  a.bytes[0] = b0;
  a.bytes[1] = b1;
  a.bytes[2] = b2;
  a.bytes[3] = b3;
  return a;
}

// reliability.md §4.4: Svix's list plus multicast (OWASP's minimum table). More specific ranges
// first where they overlap (255.255.255.255 inside 240/4).
const std::vector<Range>& Ranges() {
  static const std::vector<Range> kRanges = {
      {V4Bytes(255, 255, 255, 255), 32, "the broadcast address"},
      {V4Bytes(0, 0, 0, 0), 8, "a \"this network\" address (0.0.0.0/8)"},
      {V4Bytes(10, 0, 0, 0), 8, "a private address"},
      {V4Bytes(100, 64, 0, 0), 10, "a shared (carrier-grade NAT) address"},
      {V4Bytes(127, 0, 0, 0), 8, "a loopback address"},
      {V4Bytes(169, 254, 0, 0), 16, "a link-local address"},  // cloud metadata 169.254.169.254
      {V4Bytes(172, 16, 0, 0), 12, "a private address"},
      {V4Bytes(192, 0, 0, 0), 24, "an IETF protocol assignment address"},
      {V4Bytes(192, 0, 2, 0), 24, "a documentation address"},
      {V4Bytes(192, 168, 0, 0), 16, "a private address"},
      {V4Bytes(198, 18, 0, 0), 15, "a benchmarking address"},
      {V4Bytes(198, 51, 100, 0), 24, "a documentation address"},
      {V4Bytes(203, 0, 113, 0), 24, "a documentation address"},
      {V4Bytes(224, 0, 0, 0), 4, "a multicast address"},
      {V4Bytes(240, 0, 0, 0), 4, "a reserved address (240.0.0.0/4)"},
      {V6({}), 128, "the unspecified address"},
      {V6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 128, "a loopback address"},
      {V6({0xfe, 0x80}), 10, "a link-local address"},
      {V6({0xfc}), 7, "a unique local address"},
      {V6({0xff}), 8, "a multicast address"},
      {V6({0x20, 0x01, 0x0d, 0xb8}), 32, "a documentation address"},
  };
  return kRanges;
}

// The IPv4 address embedded in an IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, other
// than :: and ::1) or NAT64 (64:ff9b::/96) IPv6 address; nullopt for any other address.
std::optional<IpAddress> EmbeddedV4(const IpAddress& a) {
  if (!a.v6) return std::nullopt;
  const auto& b = a.bytes;
  const bool first80_zero = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
  const bool mapped = first80_zero && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = first80_zero && b[10] == 0 && b[11] == 0 &&
                          !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1);  // not ::, ::1
  static constexpr std::array<uint8_t, 12> kNat64 = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  const bool nat64 = std::equal(kNat64.begin(), kNat64.end(), b.begin());
  if (!mapped && !compatible && !nat64) return std::nullopt;
  return V4Bytes(b[12], b[13], b[14], b[15]);
}

// One dot-separated part of a numeric host: decimal, octal (leading 0) or hex (0x).
std::optional<uint64_t> ParseNumericPart(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
    if (s.empty()) return std::nullopt;
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  // Leading zeros after the prefix are harmless; skip them so the length check below is about
  // the value, then refuse anything longer than any 32-bit value needs.
  while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);
  if (s.size() > 11) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Error InvalidArgument(std::string message) {
  return Error{Errc::kInvalidArgument, std::move(message), std::nullopt};
}

}  // namespace

IpAddress IpAddress::V4(uint32_t host_order) {
  return V4Bytes(static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                 static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order));
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

bool Subnet::Contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  const int full = prefix_len / 8;
  for (int i = 0; i < full; ++i) {
    if (a.bytes[static_cast<size_t>(i)] != base.bytes[static_cast<size_t>(i)]) return false;
  }
  const int rest = prefix_len % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[static_cast<size_t>(full)] & mask) == (base.bytes[static_cast<size_t>(full)] & mask);
}

std::string Subnet::ToString() const { return base.ToString() + "/" + std::to_string(prefix_len); }

std::optional<IpAddress> ParseIpLiteral(std::string_view text) {
  if (text.empty() || text.size() > 100) return std::nullopt;
  boost::system::error_code ec;
  const std::string s(text);
  if (s.find(':') == std::string::npos) {
    const auto v4 = boost::asio::ip::make_address_v4(s, ec);
    if (ec) return std::nullopt;
    return IpAddress::V4(v4.to_uint());
  }
  const auto v6 = boost::asio::ip::make_address_v6(s, ec);  // "%zone" accepted
  if (ec) return std::nullopt;
  IpAddress a;
  a.v6 = true;
  a.bytes = v6.to_bytes();
  return a;
}

Result<Subnet> ParseSubnet(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  if (addr_text.find('%') != std::string_view::npos) {
    return tl::make_unexpected(InvalidArgument(quoted + ": a subnet has no zone (%...)"));
  }
  const auto addr = ParseIpLiteral(addr_text);
  if (!addr) {
    return tl::make_unexpected(InvalidArgument(
        quoted + ": '" + std::string(addr_text) +
        "' is not an IPv4 address (a.b.c.d) or an IPv6 address; write a CIDR such as "
        "10.0.0.0/8 or fd00::/8"));
  }
  const int max_len = addr->v6 ? 128 : 32;
  int len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int v = -1;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        p != digits.data() + digits.size() || v < 0 || v > max_len) {
      return tl::make_unexpected(InvalidArgument(quoted + ": the prefix length must be 0.." +
                                                 std::to_string(max_len) + " for an " +
                                                 (addr->v6 ? "IPv6" : "IPv4") + " subnet"));
    }
    len = v;
  }
  Subnet s{*addr, len};
  Subnet network = s;
  for (int bit = len; bit < max_len; ++bit) {
    network.base.bytes[static_cast<size_t>(bit / 8)] &=
        static_cast<uint8_t>(~(0x80u >> static_cast<unsigned>(bit % 8)));
  }
  if (!(network.base == s.base)) {
    return tl::make_unexpected(InvalidArgument(quoted + ": host bits are set past /" +
                                               std::to_string(len) + " (did you mean " +
                                               network.ToString() + "?)"));
  }
  // Mapped addresses are judged as IPv4, so a mapped block is the IPv4 block it maps.
  if (const auto v4 = EmbeddedV4(s.base); v4 && len >= 96 && s.base.bytes[10] == 0xff) {
    return Subnet{*v4, len - 96};
  }
  return s;
}

Result<std::optional<IpAddress>> ParseNumericHost(std::string_view host) {
  if (auto literal = ParseIpLiteral(host)) return std::optional<IpAddress>(*literal);
  std::string_view h = host;
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);  // "127.0.0.1." is 127.0.0.1
  const auto last_dot = h.rfind('.');
  const std::string_view last = last_dot == std::string_view::npos ? h : h.substr(last_dot + 1);
  if (last.empty() || last[0] < '0' || last[0] > '9') return std::optional<IpAddress>();  // a name
  const auto refuse = [&host] {
    return tl::make_unexpected(
        InvalidArgument("'" + std::string(host) + "' is numeric but not a valid IPv4 address"));
  };
  std::vector<uint64_t> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = h.find('.', start);
    const std::string_view part = h.substr(start, dot == std::string_view::npos ? h.npos : dot - start);
    const auto v = ParseNumericPart(part);
    if (!v || parts.size() == 4) return refuse();
    parts.push_back(*v);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // inet_aton: a.b.c.d, a.b.c (c: 16 bits), a.b (b: 24 bits), a (32 bits).
  uint64_t value = 0;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 255) return refuse();
    value |= parts[i] << (8 * (3 - i));
  }
  const uint64_t last_max = (uint64_t{1} << (8 * (5 - parts.size()))) - 1;
  if (parts.back() > last_max) return refuse();
  value |= parts.back();
  return std::optional<IpAddress>(IpAddress::V4(static_cast<uint32_t>(value)));
}

std::optional<std::string_view> SpecialRange(const IpAddress& a) {
  const IpAddress judged = EmbeddedV4(a).value_or(a);
  for (const auto& r : Ranges()) {
    if (Subnet{r.base, r.prefix_len}.Contains(judged)) return r.what;
  }
  return std::nullopt;
}

std::optional<std::string> BlockReason(const IpAddress& a, const AddressPolicy& p) {
  if (!p.block_private) return std::nullopt;
  const auto range = SpecialRange(a);
  if (!range) return std::nullopt;
  const IpAddress judged = EmbeddedV4(a).value_or(a);
  for (const auto& s : p.allowed_subnets) {
    if (s.Contains(judged) || s.Contains(a)) return std::nullopt;
  }
  return a.ToString() + " is " + std::string(*range);
}

}  // namespace herald::net
