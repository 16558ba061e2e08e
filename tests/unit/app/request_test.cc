// Request helpers: the client address behind a trusted proxy, page numbers, body fields.
#include "app/request.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace surge::app {
namespace {

namespace asio = boost::asio;

// The address with loopback (both families) as the trusted proxies, or with `proxies`.
std::string address_of(const std::string& peer,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::vector<std::string>& proxies = {"127.0.0.1/32", "::1/128"}) {
  http::Request req;
  for (const auto& [k, v] : headers) req.set(k, v);
  http::Context ctx{req, "/", ""};
  ctx.remote = asio::ip::make_address(peer);
  std::vector<core::Cidr> ranges;
  for (const auto& p : proxies) ranges.push_back(*core::Cidr::parse(p));
  return client_address(ctx, ranges);
}

TEST(ClientAddress, PeerAddressWithoutAProxy) {
  EXPECT_EQ(address_of("203.0.113.7", {}), "203.0.113.7");
  EXPECT_EQ(address_of("127.0.0.1", {}), "127.0.0.1");
}

TEST(ClientAddress, TrustedProxyHeadersAreBelieved) {
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Real-IP", "198.51.100.2"}}), "198.51.100.2");
  // nginx appends the address it saw: the last hop is the one to trust.
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Forwarded-For", "1.1.1.1, 198.51.100.3"}}),
            "198.51.100.3");
  EXPECT_EQ(address_of("::1", {{"X-Real-IP", " 198.51.100.4 "}}), "198.51.100.4");
}

TEST(ClientAddress, OtherPeersCannotSpoofTheirAddress) {
  EXPECT_EQ(address_of("203.0.113.7", {{"X-Real-IP", "198.51.100.2"}}), "203.0.113.7");
  EXPECT_EQ(address_of("203.0.113.7", {{"X-Forwarded-For", "198.51.100.3"}}), "203.0.113.7");
  // Without configured proxies not even loopback is believed (the default).
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Real-IP", "198.51.100.2"}}, {}), "127.0.0.1");
  EXPECT_EQ(address_of("10.1.2.3", {{"X-Real-IP", "198.51.100.2"}}, {"10.0.0.0/8"}),
            "198.51.100.2");
  EXPECT_EQ(address_of("11.1.2.3", {{"X-Real-IP", "198.51.100.2"}}, {"10.0.0.0/8"}), "11.1.2.3");
  // An absurd header falls back to the peer.
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Real-IP", std::string(100, 'a')}}), "127.0.0.1");
}

}  // namespace
}  // namespace surge::app

namespace surge::app {
namespace {

TEST(FieldReader, ReadsPresentFieldsAndNamesTheFirstBadOne) {
  auto o = boost::json::parse(
               R"({"id":7,"big":18446744073709551615,"x":1.5,"name":"店","empty":"","nil":null})")
               .as_object();
  int64_t id = 0, absent = 42;
  double x = 0;
  std::string name;
  FieldReader r(o);
  r.integer("id", 1, 10, id, true).number("x", 0, 2, x).text("name", 3, name);
  r.integer("missing", 0, 1, absent).integer("nil", 0, 1, absent);
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(id, 7);
  EXPECT_EQ(x, 1.5);
  EXPECT_EQ(name, "店");
  EXPECT_EQ(absent, 42) << "absent and null fields leave the target alone";

  auto check = [&](auto read, const char* error) {
    FieldReader bad(o);
    read(bad);
    EXPECT_EQ(bad.error(), error);
  };
  check([&](FieldReader& f) { f.integer("big", 0, INT64_MAX, id); }, "invalid field: big");
  check([&](FieldReader& f) { f.integer("id", 8, 10, id); }, "invalid field: id");
  check([&](FieldReader& f) { f.integer("x", 0, 10, id); }, "invalid field: x");
  check([&](FieldReader& f) { f.text("name", 2, name); }, "invalid field: name");
  check([&](FieldReader& f) { f.text("empty", 9, name, true); }, "invalid field: empty");
  check([&](FieldReader& f) { f.integer("nil", 0, 1, id, true); }, "invalid field: nil");
  // The first error stands; later reads change nothing.
  check([&](FieldReader& f) { f.integer("id", 8, 10, id).text("name", 2, name); },
        "invalid field: id");
}

}  // namespace
}  // namespace surge::app
