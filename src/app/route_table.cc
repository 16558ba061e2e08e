// The wrapper around every handler: the original's two interceptors (sliding token refresh on
// every path, 401 with an empty body where login is required), the administrator check, and the
// unique-visitor count.
#include "app/route_table.h"

#include "app/errors.h"
#include "app/request.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

// Health probes are not visitors (scrapes go to the admin listener, which records none).
bool counts_as_visit(std::string_view pattern) { return pattern != "/health"; }

void record_visit(Services* s, const http::Context& ctx) {
  if (!s->uv) return;
  std::string visitor = ctx.user ? "u:" + std::to_string(ctx.me().id)
                                 : "ip:" + client_address(ctx, s->trusted_proxies);
  s->uv->record(visitor, s->clock->now_ms());
}

// Coroutine parameters by value or pointer: the handler is owned by the router's route.
boost::asio::awaitable<http::Response> guarded(Services* s, Access access, bool visit,
                                               const http::Handler* handler, http::Context& ctx) {
  std::string_view token = ctx.header("authorization");
  bool admin = is_admin(*s, token);
  if (!admin && social::Sessions::plausible_token(token)) {
    if (auto here = s->sessions->find_here(token)) {
      ctx.user = std::move(*here);
    } else {
      auto user = co_await s->sessions->find_and_renew(s->local_redis(), std::string(token));
      if (user) {
        ctx.user = std::move(*user);
      } else if (access != Access::kPublic) {
        // Public paths are served anonymously while Redis is down; protected ones cannot be.
        co_return error_response(user.error());
      }
    }
  }
  if (visit) record_visit(s, ctx);
  if (access == Access::kLogin && !ctx.user) co_return http::Response{401, std::string()};
  if (access == Access::kLoginOrAdmin && !ctx.user && !admin) {
    co_return http::Response{401, std::string()};
  }
  if (access == Access::kAdmin && !admin) {
    if (ctx.user) co_return http::json(403, http::envelope::fail("administrator only"));
    co_return http::json(401, http::envelope::fail("administrator credential required"));
  }
  co_return co_await (*handler)(ctx);
}

}  // namespace

std::string_view access_name(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kLogin:
      return "login";
    case Access::kAdmin:
      return "admin";
    case Access::kLoginOrAdmin:
      return "login-or-admin";
  }
  return "public";
}

bool is_admin(const Services& services, std::string_view credential) {
  const std::string& token = services.config.admin_token;
  if (token.empty() || credential.size() != token.size()) return false;
  // Every byte is compared whatever the earlier ones were, so the time taken says nothing about
  // how much of a guess was right (the length is not a secret worth hiding).
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(token[i] ^ credential[i]);
  }
  return diff == 0;
}

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
