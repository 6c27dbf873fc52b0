// The SSRF guard's address rules (reliability.md §4.4, decision 0009): which IP addresses an
// outgoing webhook may connect to. Pure functions of their inputs, no I/O, no Asio in this
// header; thread-safe. net::HttpClient applies them to every address it resolves (and to IP
// literal hosts) when `HttpClientOptions::address_policy.block_private` is set, and connects only
// to the addresses that passed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace herald::net {

// An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3], the rest are zero.
// No scope id: a zone ("fe80::1%eth0") does not change which range an address is in.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(uint32_t host_order);
  // Canonical text: dotted quad, or RFC 5952 IPv6 ("::ffff:127.0.0.1" for mapped addresses).
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A CIDR block: `base` has no bits set past `prefix_len`.
struct Subnet {
  IpAddress base;
  int prefix_len = 0;  // 0..32 (IPv4), 0..128 (IPv6)

  bool Contains(const IpAddress& a) const;  // false across families
  std::string ToString() const;
};

// Parses "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). Addresses in canonical
// form only (dotted quad; IPv6 without brackets or zone). An IPv4-mapped IPv6 block with a
// prefix of at least 96 ("::ffff:10.0.0.0/104") becomes the IPv4 block it maps, since mapped
// addresses are judged as IPv4. Errors (kInvalidArgument) say what is wrong: not an address, a
// prefix out of range, or host bits set past the prefix ("did you mean 10.0.0.0/8?").
Result<Subnet> ParseSubnet(std::string_view text);

// Parses an IP literal as Boost.Asio does (inet_pton): a canonical dotted quad, or IPv6 with
// an optional "%zone" (ignored). nullopt for anything else, including the numeric forms below.
std::optional<IpAddress> ParseIpLiteral(std::string_view text);

// Numeric host forms that resolvers (inet_aton, getaddrinfo) and browsers (WHATWG URL) read as
// IPv4 although they are not dotted quads: "2130706433", "0177.0.0.1", "0x7f.1", "127.1" (1 to 4
// parts, each decimal, octal with a leading 0 or hex with 0x; the last part fills the remaining
// bytes). A host whose last dot-separated label starts with a digit is numeric-looking (no
// top-level domain starts with a digit): it is the IPv4 address it denotes, or an error
// (kInvalidArgument) when it denotes none ("1.2.3.4.5", "256.1.1.1", "0x7g.1"). nullopt: a
// name, to be resolved. A canonical dotted quad is accepted here too.
Result<std::optional<IpAddress>> ParseNumericHost(std::string_view host);

// The special-purpose range `a` is in, as a phrase for an error message ("a loopback
// address"), or nullopt if it is in none (public). IPv4-mapped (::ffff:0:0/96), IPv4-compatible
// (::/96) and NAT64 (64:ff9b::/96) IPv6 addresses are judged by the IPv4 address they embed.
// The ranges are listed in address_policy.cpp (reliability.md §4.4).
std::optional<std::string_view> SpecialRange(const IpAddress& a);

struct AddressPolicy {
  bool block_private = false;          // webhooks.block_private_addresses
  std::vector<Subnet> allowed_subnets;  // webhooks.allowed_subnets: exempt from the block
};

// Why `a` may not be connected to under `p`, e.g. "127.0.0.1 is a loopback address"; nullopt
// if it may (the block is off, the address is public, or it is in an allowed subnet). Mapped,
// compatible and NAT64 addresses are matched against allowed_subnets by their IPv4 address.
std::optional<std::string> BlockReason(const IpAddress& a, const AddressPolicy& p);

}  // namespace herald::net
