// Route registration shared by every API area: each area's handler object registers its member
// coroutines here with an access level, and the table wraps them with the original's two
// interceptors (sliding token refresh on every path, 401 with an empty body where login is
// required).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "app/service.h"
#include "http/router.h"

namespace surge::app {

// kLogin: a session (401 with an empty body without one, as the original). kAdmin: the
// configured admin token (401 in the envelope without a credential, 403 for a user's session).
// kLoginOrAdmin: a session or the admin token (deleting uploads: the owner or an admin).
enum class Access { kPublic, kLogin, kAdmin, kLoginOrAdmin };

// The name `surge routes` prints and the API document's security stands for.
std::string_view access_name(Access access);

// True when `credential` is the configured admin token (compared in constant time; never true
// when no token is configured).
bool is_admin(const Services& services, std::string_view credential);

// One registered route as `surge routes` prints it: what the API document must describe.
struct RouteInfo {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/shop/{id}"
  Access access;
};

// Borrows the router and services, which outlive every request.
class RouteTable {
 public:
  RouteTable(http::Router& router, Services& services) : router_(router), services_(services) {}

  // `api` is shared by the registered closures and lives as long as the router.
  template <class Api>
  void add(boost::beast::http::verb v, std::string_view pattern, Access access,
           std::shared_ptr<Api> api,
           boost::asio::awaitable<http::Response> (Api::*fn)(http::Context&)) {
    // A plain (non-coroutine) lambda forwarding to a member coroutine: a capturing lambda that
    // is itself a coroutine would lose its captures when it suspends.
    add_handler(v, pattern, access, [api, fn](http::Context& ctx) { return ((*api).*fn)(ctx); });
  }
  void add_handler(boost::beast::http::verb v, std::string_view pattern, Access access,
                   http::Handler handler);

  Services& services() { return services_; }
  // The metric name of each route id, in id order.
  const std::vector<std::string>& names() const { return names_; }
  // Every route in id order, with its access level.
  const std::vector<RouteInfo>& routes() const { return routes_; }

 private:
  http::Router& router_;
  Services& services_;
  std::vector<std::string> names_;
  std::vector<RouteInfo> routes_;
};

}  // namespace surge::app
