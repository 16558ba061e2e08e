// The auth wrapper around every handler.
#include "app/route_table.h"

#include "app/auth.h"
#include "app/errors.h"

namespace surge::app {

namespace {

// Coroutine parameters by value or pointer: the handler is owned by the router's route.
boost::asio::awaitable<http::Response> guarded(Services* s, Access access,
                                               const http::Handler* handler, http::Context& ctx) {
  std::string_view token = ctx.header("authorization");
  if (plausible_token(token)) {
    auto user =
        co_await authenticate(s->redis_for(ctx.worker), std::string(token), s->config.login_ttl());
    if (user) {
      ctx.user = std::move(*user);
    } else if (access == Access::kLogin) {
      // Public paths are served anonymously while Redis is down; protected ones cannot be.
      co_return error_response(user.error());
    }
  }
  if (access == Access::kLogin && !ctx.user) co_return http::Response{401, std::string()};
  co_return co_await (*handler)(ctx);
}

}  // namespace

void RouteTable::add_handler(boost::beast::http::verb v, std::string_view pattern, Access access,
                             http::Handler handler) {
  auto owned = std::make_shared<http::Handler>(std::move(handler));
  Services* s = &services_;
  router_.add(v, pattern, [s, access, owned](http::Context& ctx) {
    return guarded(s, access, owned.get(), ctx);
  });
  names_.push_back(std::string(boost::beast::http::to_string(v)) + " " + std::string(pattern));
}

}  // namespace surge::app
