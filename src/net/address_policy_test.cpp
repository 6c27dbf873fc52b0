#include "net/address_policy.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace herald::net {
namespace {

IpAddress Ip(std::string_view text) {
  auto a = ParseIpLiteral(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

AddressPolicy Blocking(std::vector<std::string> allowed = {}) {
  AddressPolicy p;
  p.block_private = true;
  for (const auto& s : allowed) {
    auto subnet = ParseSubnet(s);
    EXPECT_TRUE(subnet.has_value()) << s;
    if (subnet) p.allowed_subnets.push_back(*subnet);
  }
  return p;
}

struct RangeCase {
  const char* address;
  const char* range;  // nullptr: public
};

// Every range of reliability.md §4.4 at its first and last address, with the neighbours just
// outside it (public unless another range starts there).
TEST(SpecialRangeTest, Ipv4RangesAtTheirEdges) {
  const RangeCase cases[] = {
      {"0.0.0.0", "a \"this network\" address (0.0.0.0/8)"},
      {"0.255.255.255", "a \"this network\" address (0.0.0.0/8)"},
      {"1.0.0.0", nullptr},
      {"9.255.255.255", nullptr},
      {"10.0.0.0", "a private address"},
      {"10.255.255.255", "a private address"},
      {"11.0.0.0", nullptr},
      {"100.63.255.255", nullptr},
      {"100.64.0.0", "a shared (carrier-grade NAT) address"},
      {"100.127.255.255", "a shared (carrier-grade NAT) address"},
      {"100.128.0.0", nullptr},
      {"126.255.255.255", nullptr},
      {"127.0.0.0", "a loopback address"},
      {"127.0.0.1", "a loopback address"},
      {"127.255.255.255", "a loopback address"},
      {"128.0.0.0", nullptr},
      {"169.253.255.255", nullptr},
      {"169.254.0.0", "a link-local address"},
      {"169.254.169.254", "a link-local address"},  // cloud metadata
      {"169.254.255.255", "a link-local address"},
      {"169.255.0.0", nullptr},
      {"172.15.255.255", nullptr},
      {"172.16.0.0", "a private address"},
      {"172.31.255.255", "a private address"},
      {"172.32.0.0", nullptr},
      {"191.255.255.255", nullptr},
      {"192.0.0.0", "an IETF protocol assignment address"},
      {"192.0.0.255", "an IETF protocol assignment address"},
      {"192.0.1.0", nullptr},
      {"192.0.2.0", "a documentation address"},
      {"192.0.2.255", "a documentation address"},
      {"192.0.3.0", nullptr},
      {"192.167.255.255", nullptr},
      {"192.168.0.0", "a private address"},
      {"192.168.255.255", "a private address"},
      {"192.169.0.0", nullptr},
      {"198.17.255.255", nullptr},
      {"198.18.0.0", "a benchmarking address"},
      {"198.19.255.255", "a benchmarking address"},
      {"198.20.0.0", nullptr},
      {"198.51.99.255", nullptr},
      {"198.51.100.0", "a documentation address"},
      {"198.51.100.255", "a documentation address"},
      {"198.51.101.0", nullptr},
      {"203.0.112.255", nullptr},
      {"203.0.113.0", "a documentation address"},
      {"203.0.113.255", "a documentation address"},
      {"203.0.114.0", nullptr},
      {"223.255.255.255", nullptr},
      {"224.0.0.0", "a multicast address"},
      {"239.255.255.255", "a multicast address"},
      {"240.0.0.0", "a reserved address (240.0.0.0/4)"},
      {"255.255.255.254", "a reserved address (240.0.0.0/4)"},
      {"255.255.255.255", "the broadcast address"},
      {"8.8.8.8", nullptr},
      {"93.184.215.14", nullptr},
  };
  for (const auto& c : cases) {
    const auto got = SpecialRange(Ip(c.address));
    if (c.range == nullptr) {
      EXPECT_EQ(got, std::nullopt) << c.address << " is public";
    } else {
      EXPECT_EQ(got.value_or("(public)"), c.range) << c.address;
    }
  }
}

TEST(SpecialRangeTest, Ipv6RangesAtTheirEdges) {
  const RangeCase cases[] = {
      {"::", "the unspecified address"},
      {"::1", "a loopback address"},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
      {"fe80::", "a link-local address"},
      {"fe80::1", "a link-local address"},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a link-local address"},
      {"fec0::", nullptr},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
      {"fc00::", "a unique local address"},
      {"fd12:3456::1", "a unique local address"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a unique local address"},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
      {"ff00::", "a multicast address"},
      {"ff02::1", "a multicast address"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a multicast address"},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", nullptr},
      {"2001:db8::", "a documentation address"},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "a documentation address"},
      {"2001:db9::", nullptr},
      {"2606:4700:4700::1111", nullptr},
      {"2a00:1450:4001:82a::200e", nullptr},
  };
  for (const auto& c : cases) {
    const auto got = SpecialRange(Ip(c.address));
    if (c.range == nullptr) {
      EXPECT_EQ(got, std::nullopt) << c.address << " is public";
    } else {
      EXPECT_EQ(got.value_or("(public)"), c.range) << c.address;
    }
  }
}

// ::ffff:0:0/96 is judged by its IPv4 address, whichever way it is written; so are the
// IPv4-compatible ::/96 and NAT64 64:ff9b::/96 forms.
TEST(SpecialRangeTest, EmbeddedIpv4IsJudgedAsIpv4) {
  const RangeCase cases[] = {
      {"::ffff:127.0.0.1", "a loopback address"},
      {"::ffff:7f00:1", "a loopback address"},
      {"0:0:0:0:0:ffff:7f00:0001", "a loopback address"},
      {"::ffff:10.1.2.3", "a private address"},
      {"::ffff:169.254.169.254", "a link-local address"},
      {"::ffff:0.0.0.0", "a \"this network\" address (0.0.0.0/8)"},
      {"::ffff:8.8.8.8", nullptr},
      {"::127.0.0.1", "a loopback address"},  // IPv4-compatible (deprecated)
      {"::2", "a \"this network\" address (0.0.0.0/8)"},
      {"::8.8.8.8", nullptr},
      {"64:ff9b::10.0.0.1", "a private address"},  // NAT64
      {"64:ff9b::7f00:1", "a loopback address"},
      {"64:ff9b::8.8.8.8", nullptr},
      {"::fffe:127.0.0.1", nullptr},  // not a mapped prefix: a plain (public) IPv6 address
  };
  for (const auto& c : cases) {
    const auto got = SpecialRange(Ip(c.address));
    if (c.range == nullptr) {
      EXPECT_EQ(got, std::nullopt) << c.address << " is public";
    } else {
      EXPECT_EQ(got.value_or("(public)"), c.range) << c.address;
    }
  }
}

TEST(ParseIpLiteralTest, CanonicalFormsOnly) {
  EXPECT_EQ(Ip("127.0.0.1"), IpAddress::V4(0x7f000001));
  EXPECT_EQ(Ip("fe80::1%lo"), Ip("fe80::1"));  // the zone does not change the range
  EXPECT_EQ(Ip("::FFFF:7F00:1").ToString(), "::ffff:127.0.0.1");
  for (const char* bad : {"", "127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.0.0.01",
                          "256.0.0.1", "1.2.3.4.5", "[::1]", "::1::", "localhost", " 127.0.0.1"}) {
    EXPECT_EQ(ParseIpLiteral(bad), std::nullopt) << "'" << bad << "'";
  }
}

struct NumericCase {
  const char* host;
  const char* means;  // the IPv4 address it denotes; nullptr: refused
};

// The forms inet_aton and browsers accept: each is the address it denotes (then judged), or
// refused when it denotes none. Never handed to a resolver to interpret.
TEST(ParseNumericHostTest, OddNumericFormsAreTheIpv4TheyMean) {
  const NumericCase cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},  // one 32-bit decimal
      {"017700000001", "127.0.0.1"},  // one 32-bit octal
      {"0x7f000001", "127.0.0.1"},  // one 32-bit hex
      {"0X7F000001", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},  // octal part
      {"0177.0000.0000.0001", "127.0.0.1"},
      {"0x7f.0.0.1", "127.0.0.1"},  // hex part
      {"0x7f.1", "127.0.0.1"},  // a.b: b is 24 bits
      {"127.1", "127.0.0.1"},
      {"127.0.1", "127.0.0.1"},  // a.b.c: c is 16 bits
      {"127.0.0.1.", "127.0.0.1"},  // trailing root dot
      {"0", "0.0.0.0"},
      {"0x0", "0.0.0.0"},
      {"10.0x10.0377.1", "10.16.255.1"},
      {"169.254.43518", "169.254.169.254"},
      {"3232235777", "192.168.1.1"},
      {"0xa9fea9fe", "169.254.169.254"},
      {"4294967295", "255.255.255.255"},
      {"134744072", "8.8.8.8"},
      {"4294967296", nullptr},  // over 32 bits
      {"256.0.0.1", nullptr},
      {"1.2.3.4.5", nullptr},
      {"127.0.0.256", nullptr},
      {"127.65536", "127.1.0.0"},  // a.b: b may be up to 24 bits
      {"127.16777216", nullptr},  // ... but not more
      {"08.0.0.1", nullptr},  // 8 is not an octal digit
      {"0x7g.0.0.1", nullptr},
      {"0x.0.0.1", nullptr},
      {"127..0.1", nullptr},
      {".127.0.0.1", nullptr},
      {"example.1com", nullptr},  // last label starts with a digit: numeric-looking, invalid
      {"99999999999999999999999", nullptr},
  };
  for (const auto& c : cases) {
    auto got = ParseNumericHost(c.host);
    if (c.means == nullptr) {
      EXPECT_FALSE(got.has_value()) << c.host << " should be refused";
      if (!got) EXPECT_NE(got.error().message.find("not a valid IPv4"), std::string::npos);
    } else {
      ASSERT_TRUE(got.has_value()) << c.host << ": " << got.error().message;
      ASSERT_TRUE(got->has_value()) << c.host << " was taken for a name";
      EXPECT_EQ((*got)->ToString(), c.means) << c.host;
    }
  }
}

TEST(ParseNumericHostTest, NamesAreLeftToTheResolver) {
  for (const char* name : {"localhost", "example.com", "hooks.example.com.", "1password.com",
                           "a1.b2.c3", "xn--bcher-kva.example", "0x7f.example"}) {
    auto got = ParseNumericHost(name);
    ASSERT_TRUE(got.has_value()) << name;
    EXPECT_EQ(*got, std::nullopt) << name;
  }
  auto v6 = ParseNumericHost("::ffff:127.0.0.1");
  ASSERT_TRUE(v6 && *v6);
  EXPECT_EQ(SpecialRange(**v6).value_or(""), "a loopback address");
}

TEST(BlockReasonTest, OffBlocksNothing) {
  AddressPolicy off;
  for (const char* a : {"127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(BlockReason(Ip(a), off), std::nullopt) << a;
  }
}

TEST(BlockReasonTest, OnBlocksSpecialAddressesWithAReason) {
  const AddressPolicy on = Blocking();
  EXPECT_EQ(BlockReason(Ip("127.0.0.1"), on).value_or(""), "127.0.0.1 is a loopback address");
  EXPECT_EQ(BlockReason(Ip("::1"), on).value_or(""), "::1 is a loopback address");
  EXPECT_EQ(BlockReason(Ip("::ffff:7f00:1"), on).value_or(""),
            "::ffff:127.0.0.1 is a loopback address");
  EXPECT_EQ(BlockReason(Ip("169.254.169.254"), on).value_or(""),
            "169.254.169.254 is a link-local address");
  EXPECT_EQ(BlockReason(Ip("8.8.8.8"), on), std::nullopt);
  EXPECT_EQ(BlockReason(Ip("2606:4700:4700::1111"), on), std::nullopt);
}

TEST(BlockReasonTest, AllowedSubnetsAreExempt) {
  const AddressPolicy p = Blocking({"127.0.0.0/8", "10.1.0.0/16", "fd00:1::/32"});
  EXPECT_EQ(BlockReason(Ip("127.0.0.1"), p), std::nullopt);
  EXPECT_EQ(BlockReason(Ip("127.255.0.9"), p), std::nullopt);
  EXPECT_EQ(BlockReason(Ip("::ffff:127.0.0.1"), p), std::nullopt);  // mapped: judged as IPv4
  EXPECT_EQ(BlockReason(Ip("10.1.200.3"), p), std::nullopt);
  EXPECT_NE(BlockReason(Ip("10.2.0.1"), p), std::nullopt);  // outside the allowed /16
  EXPECT_EQ(BlockReason(Ip("fd00:1:ffff::1"), p), std::nullopt);
  EXPECT_NE(BlockReason(Ip("fd00:2::1"), p), std::nullopt);
  EXPECT_NE(BlockReason(Ip("::1"), p), std::nullopt);  // 127/8 does not cover IPv6 loopback
  EXPECT_NE(BlockReason(Ip("169.254.169.254"), p), std::nullopt);

  const AddressPolicy v6_loopback = Blocking({"::1/128"});
  EXPECT_EQ(BlockReason(Ip("::1"), v6_loopback), std::nullopt);
  EXPECT_NE(BlockReason(Ip("127.0.0.1"), v6_loopback), std::nullopt);

  // A mapped subnet is the IPv4 subnet it maps.
  const AddressPolicy mapped = Blocking({"::ffff:192.168.0.0/112"});
  EXPECT_EQ(BlockReason(Ip("192.168.4.4"), mapped), std::nullopt);
  EXPECT_EQ(BlockReason(Ip("::ffff:192.168.4.4"), mapped), std::nullopt);
  EXPECT_NE(BlockReason(Ip("10.0.0.1"), mapped), std::nullopt);

  // Everything allowed: 0.0.0.0/0 and ::/0 exempt all.
  const AddressPolicy all = Blocking({"0.0.0.0/0", "::/0"});
  for (const char* a : {"127.0.0.1", "::1", "fe80::1", "224.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_EQ(BlockReason(Ip(a), all), std::nullopt) << a;
  }
}

TEST(ParseSubnetTest, AcceptsIpv4AndIpv6Blocks) {
  struct Ok {
    const char* text;
    const char* canonical;
  };
  for (const Ok& c : {Ok{"10.0.0.0/8", "10.0.0.0/8"}, Ok{"192.168.1.0/24", "192.168.1.0/24"},
                      Ok{"127.0.0.1/32", "127.0.0.1/32"}, Ok{"127.0.0.1", "127.0.0.1/32"},
                      Ok{"0.0.0.0/0", "0.0.0.0/0"}, Ok{"fd00::/8", "fd00::/8"},
                      Ok{"FD00:0:0::/16", "fd00::/16"}, Ok{"::1", "::1/128"},
                      Ok{"::/0", "::/0"}, Ok{"2001:db8:1::/48", "2001:db8:1::/48"},
                      Ok{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
                      Ok{"::ffff:0:0/96", "0.0.0.0/0"}}) {
    auto s = ParseSubnet(c.text);
    ASSERT_TRUE(s.has_value()) << c.text << ": " << s.error().message;
    EXPECT_EQ(s->ToString(), c.canonical) << c.text;
  }
}

TEST(ParseSubnetTest, ErrorsSayWhatIsWrong) {
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& c : {
           Bad{"10.0.0.1/8", "'10.0.0.1/8': host bits are set past /8 (did you mean 10.0.0.0/8?)"},
           Bad{"fd00::1/8", "host bits are set past /8 (did you mean fd00::/8?)"},
           Bad{"10.0.0.0/33", "'10.0.0.0/33': the prefix length must be 0..32 for an IPv4 subnet"},
           Bad{"fd00::/129", "the prefix length must be 0..128 for an IPv6 subnet"},
           Bad{"10.0.0.0/", "the prefix length must be 0..32"},
           Bad{"10.0.0.0/-1", "the prefix length must be 0..32"},
           Bad{"10.0.0.0/8/8", "the prefix length must be 0..32"},
           Bad{"10.0.0.0/ 8", "the prefix length must be 0..32"},
           Bad{"10.0.0.0/0x8", "the prefix length must be 0..32"},
           Bad{"10/8", "'10' is not an IPv4 address (a.b.c.d) or an IPv6 address"},
           Bad{"127.1/32", "'127.1' is not an IPv4 address"},
           Bad{"0177.0.0.0/8", "'0177.0.0.0' is not an IPv4 address"},
           Bad{"localhost/8", "'localhost' is not an IPv4 address"},
           Bad{"", "'' is not an IPv4 address"},
           Bad{"/8", "'' is not an IPv4 address"},
           Bad{"[::1]/128", "'[::1]' is not an IPv4 address"},
           Bad{"fe80::%lo/64", "a subnet has no zone"},
       }) {
    auto s = ParseSubnet(c.text);
    ASSERT_FALSE(s.has_value()) << c.text << " was accepted as " << s->ToString();
    EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
    EXPECT_NE(s.error().message.find(c.says), std::string::npos)
        << c.text << ": " << s.error().message;
  }
}

TEST(SubnetTest, ContainsIsBitExact) {
  auto s = ParseSubnet("100.64.0.0/10");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Contains(Ip("100.64.0.0")));
  EXPECT_TRUE(s->Contains(Ip("100.127.255.255")));
  EXPECT_FALSE(s->Contains(Ip("100.128.0.0")));
  EXPECT_FALSE(s->Contains(Ip("::ffff:100.64.0.1")));  // across families: no (BlockReason maps)
  auto zero = ParseSubnet("0.0.0.0/0");
  ASSERT_TRUE(zero);
  EXPECT_TRUE(zero->Contains(Ip("255.255.255.255")));
  EXPECT_FALSE(zero->Contains(Ip("::")));
}

}  // namespace
}  // namespace herald::net
