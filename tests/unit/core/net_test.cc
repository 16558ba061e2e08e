#include "core/net.h"

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Cidr, MatchesV4Ranges) {
  auto r = Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("10.1.2.3"));
  EXPECT_TRUE(r->contains("10.1.255.255"));
  EXPECT_FALSE(r->contains("10.2.0.1"));
  EXPECT_TRUE(r->contains("::ffff:10.1.9.9")) << "IPv4-mapped IPv6 is the IPv4 address";
  auto host = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains("127.0.0.1"));
  EXPECT_FALSE(host->contains("127.0.0.2"));
  auto odd = Cidr::parse("192.168.1.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("192.168.1.200"));
  EXPECT_FALSE(odd->contains("192.168.1.127"));
  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("8.8.8.8"));
  EXPECT_FALSE(all->contains("::1")) << "a v4 range holds no v6 address";
}

TEST(Cidr, MatchesV6Ranges) {
  auto r = Cidr::parse("fd00::/8");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("fd12:3456::1"));
  EXPECT_FALSE(r->contains("fe80::1"));
  auto lo = Cidr::parse("::1/128");
  ASSERT_TRUE(lo);
  EXPECT_TRUE(lo->contains("::1"));
  EXPECT_FALSE(lo->contains("127.0.0.1"));
}

TEST(Cidr, RefusesMalformedRanges) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8",
                          "host.example", "10.0.0.0/8/8", "1.2.3.4 ", "/8"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
  auto r = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->contains("not an address"));
  EXPECT_FALSE(r->contains(""));
}

TEST(Cidr, AnyOfSeveral) {
  std::vector<Cidr> ranges = {*Cidr::parse("127.0.0.1"), *Cidr::parse("10.0.0.0/8")};
  EXPECT_TRUE(in_any(ranges, "10.9.9.9"));
  EXPECT_TRUE(in_any(ranges, "127.0.0.1"));
  EXPECT_FALSE(in_any(ranges, "192.168.0.1"));
  EXPECT_FALSE(in_any({}, "127.0.0.1")) << "no trusted proxies: nobody is believed";
}

}  // namespace
}  // namespace surge::core
