// Request helpers: the client address behind a loopback proxy, and page numbers.
#include "app/request.h"

#include <gtest/gtest.h>

namespace surge::app {
namespace {

namespace asio = boost::asio;

std::string address_of(const std::string& peer,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Request req;
  for (const auto& [k, v] : headers) req.set(k, v);
  http::Context ctx{req, "/", ""};
  ctx.remote = asio::ip::make_address(peer);
  return client_address(ctx);
}

TEST(ClientAddress, PeerAddressWithoutAProxy) {
  EXPECT_EQ(address_of("203.0.113.7", {}), "203.0.113.7");
  EXPECT_EQ(address_of("127.0.0.1", {}), "127.0.0.1");
}

TEST(ClientAddress, LoopbackProxyHeadersAreBelieved) {
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Real-IP", "198.51.100.2"}}), "198.51.100.2");
  // nginx appends the address it saw: the last hop is the one to trust.
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Forwarded-For", "1.1.1.1, 198.51.100.3"}}),
            "198.51.100.3");
  EXPECT_EQ(address_of("::1", {{"X-Real-IP", " 198.51.100.4 "}}), "198.51.100.4");
}

TEST(ClientAddress, OtherPeersCannotSpoofTheirAddress) {
  EXPECT_EQ(address_of("203.0.113.7", {{"X-Real-IP", "198.51.100.2"}}), "203.0.113.7");
  EXPECT_EQ(address_of("203.0.113.7", {{"X-Forwarded-For", "198.51.100.3"}}), "203.0.113.7");
  // An absurd header falls back to the peer.
  EXPECT_EQ(address_of("127.0.0.1", {{"X-Real-IP", std::string(100, 'a')}}), "127.0.0.1");
}

}  // namespace
}  // namespace surge::app
