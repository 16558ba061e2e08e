// The wrapper around every handler: the original's two interceptors (sliding token refresh on
// every path, 401 with an empty body where login is required) and the unique-visitor count.
#include "app/route_table.h"

#include "app/errors.h"
#include "app/request.h"

namespace surge::app {

namespace {

// Probes and scrapes are not visitors.
bool counts_as_visit(std::string_view pattern) {
  return pattern != "/health" && pattern != "/metrics";
}

void record_visit(Services* s, const http::Context& ctx) {
  if (!s->uv) return;
  std::string visitor = ctx.user ? "u:" + std::to_string(ctx.me().id) : "ip:" + client_address(ctx);
  s->uv->record(visitor, s->clock->now_ms());
}

// Coroutine parameters by value or pointer: the handler is owned by the router's route.
boost::asio::awaitable<http::Response> guarded(Services* s, Access access, bool visit,
                                               const http::Handler* handler, http::Context& ctx) {
  std::string_view token = ctx.header("authorization");
  if (social::Sessions::plausible_token(token)) {
    auto user = co_await s->sessions->find_and_renew(s->local_redis(), std::string(token));
    if (user) {
      ctx.user = std::move(*user);
    } else if (access == Access::kLogin) {
      // Public paths are served anonymously while Redis is down; protected ones cannot be.
      co_return error_response(user.error());
    }
  }
  if (visit) record_visit(s, ctx);
  if (access == Access::kLogin && !ctx.user) co_return http::Response{401, std::string()};
  co_return co_await (*handler)(ctx);
}

}  // namespace

void RouteTable::add_handler(boost::beast::http::verb v, std::string_view pattern, Access access,
                             http::Handler handler) {
  auto owned = std::make_shared<http::Handler>(std::move(handler));
  Services* s = &services_;
  bool visit = counts_as_visit(pattern);
  router_.add(v, pattern, [s, access, visit, owned](http::Context& ctx) {
    return guarded(s, access, visit, owned.get(), ctx);
  });
  std::string method(boost::beast::http::to_string(v));
  names_.push_back(method + " " + std::string(pattern));
  routes_.push_back({std::move(method), std::string(pattern), access});
}

}  // namespace surge::app
