// Fuzzes what the server does with untrusted request bytes before a handler runs: Beast's parser
// under the server's limits, the framing check, routing over the app's route patterns, and the
// parameter parsing handlers apply to path segments, query values and headers.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/parser.hpp>

#include "app/request.h"
#include "core/net.h"
#include "core/parse.h"
#include "http/framing.h"
#include "http/router.h"

namespace {

using namespace surge;
namespace bhttp = boost::beast::http;

// Never called: routing is what is fuzzed. Not a coroutine (see fuzz/CMakeLists.txt).
boost::asio::awaitable<http::Response> unused(http::Context&) {
  throw std::logic_error("not called");
}

// The app's route shapes (literal segments, parameters, overlaps such as /user/me vs /user/{id}).
const http::Router& routes() {
  static const http::Router router = [] {
    http::Router r;
    using bhttp::verb;
    for (const char* p : {"/blog/hot",
                          "/blog/likes/{id}",
                          "/blog/of/follow",
                          "/blog/of/me",
                          "/blog/of/user",
                          "/blog/{id}",
                          "/follow/common/{id}",
                          "/follow/or/not/{id}",
                          "/health",
                          "/metrics",
                          "/shop-type/list",
                          "/shop/of/name",
                          "/shop/of/type",
                          "/shop/{id}",
                          "/stats/uv",
                          "/upload/blog/delete",
                          "/user/info/{id}",
                          "/user/me",
                          "/user/sign/count",
                          "/user/{id}",
                          "/voucher-order/{id}",
                          "/voucher/list/{shopId}"}) {
      r.add(verb::get, p, unused);
    }
    for (const char* p :
         {"/blog", "/shop", "/upload/blog", "/user/code", "/user/login", "/user/logout",
          "/user/sign", "/voucher", "/voucher-order/seckill/{id}", "/voucher/seckill"}) {
      r.add(verb::post, p, unused);
    }
    for (const char* p : {"/blog/like/{id}", "/follow/{id}/{isFollow}", "/shop"}) {
      r.add(verb::put, p, unused);
    }
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Fed in two pieces, as a socket would deliver them.
  size_t split = size > 0 ? data[0] % (size + 1) : 0;
  size_t used = parser.put(boost::asio::buffer(in.data(), split), ec);
  if (ec == bhttp::error::need_more) ec = {};
  if (!ec) {
    std::string_view rest = in.substr(used);
    while (!ec && !rest.empty() && !parser.is_done()) {
      size_t n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      if (ec == bhttp::error::need_more && n == 0) break;
      if (ec == bhttp::error::need_more) ec = {};
      rest.remove_prefix(n);
    }
  }
  if (ec || !parser.is_header_done()) return 0;
  const http::Request& req = parser.get();
  if (http::framing_failure(req)) return 0;

  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  auto verb = req.method() == bhttp::verb::head ? bhttp::verb::get : req.method();
  auto m = routes().match(verb, path);
  http::Context ctx{req, path, query, m.params, 0, boost::asio::ip::make_address_v4("127.0.0.1")};
  for (std::string_view p : m.params) {
    (void)core::parse_id(p);
    (void)core::parse_int64(p, 0, 1);
  }
  (void)app::page_number(ctx);
  // The peer is a trusted proxy here, so the forwarding headers are parsed too.
  static const std::vector<core::Cidr> kProxies = {*core::Cidr::parse("127.0.0.1/32")};
  (void)app::client_address(ctx, kProxies);
  for (const char* name :
       {"id", "typeId", "lastId", "offset", "name", "phone", "date", "from", "to"}) {
    if (auto v = ctx.query_param(name)) {
      (void)core::parse_id(*v);
      (void)core::parse_int64(*v, 0, 1'000'000);
      (void)core::parse_datetime_ms(*v);
    }
  }
  for (const char* name : {"x", "y"}) {
    if (auto v = ctx.query_param(name)) (void)core::parse_double(*v);
  }
  (void)core::url_decode(query);
  return 0;
}
