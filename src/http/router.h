// Method + path routing with {param} segments. Literal segments beat parameters, so /user/me
// wins over /user/{id} whatever the registration order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "common/assert.h"
#include "core/user.h"

namespace surge::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;

struct Response {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json;charset=UTF-8";
  bool close = false;  // ask the session to close after writing
};

Response json(unsigned status, std::string body);

inline constexpr size_t kMaxParams = 4;

// What a handler sees of one request. Borrowed views live as long as the request.
struct Context {
  const Request& request;
  std::string_view path;   // without the query string
  std::string_view query;  // raw, after '?'
  std::array<std::string_view, kMaxParams> params{};
  size_t worker = 0;  // index of the io_context running this request
  asio::ip::address remote;
  std::optional<core::LoggedInUser> user;  // set by the app's auth wrapper for a valid token

  // The logged-in user, for handlers registered as login-only (the wrapper answers 401 before
  // they run otherwise); calling it anywhere else is a bug and aborts.
  const core::LoggedInUser& me() const {
    SURGE_CHECK(user.has_value());
    return *user;
  }

  // The first value of a query parameter, URL-decoded; nullopt if absent or badly escaped.
  std::optional<std::string> query_param(std::string_view name) const;
  std::string_view header(std::string_view name) const;
};

using Handler = std::function<asio::awaitable<Response>(Context&)>;

struct Route {
  bhttp::verb verb;
  std::string pattern;
  std::vector<std::string> segments;  // "{...}" marks a parameter
  Handler handler;
  size_t id = 0;
  size_t literals = 0;
};

class Router {
 public:
  // Ids start at `first_id`, so a second listener's router can share one Metrics with the first
  // (its ids follow the first router's).
  explicit Router(size_t first_id = 0) : first_id_(first_id) {}
  // Returns the route id (dense, from first_id) used by metrics.
  size_t add(bhttp::verb verb, std::string_view pattern, Handler handler);

  struct Match {
    const Route* route = nullptr;
    bool path_known = false;  // some route matched the path with another method (405)
    std::array<std::string_view, kMaxParams> params{};
  };
  Match match(bhttp::verb verb, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  size_t first_id_;
  std::vector<Route> routes_;
};

}  // namespace surge::http
