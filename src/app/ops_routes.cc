// Operations routes. The public listener gets only `/health` as up/down (what balancers poll);
// the admin listener gets `/metrics`, `/health` with each store's state, and the live dashboard
// (`/dashboard`, the page compiled into the binary, and `/dashboard/data`, the JSON it polls).
// The dashboard's JSON carries each instance's /metrics text read back into samples, so it shows
// exactly what Prometheus scrapes and needs no hook in the engine (the page computes rates and
// percentiles), and the flash sale's figures from the stores (app/dashboard_feed.h).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "app/dashboard.h"
#include "app/routes.h"
#include "http/envelope.h"
#include "redis/commands.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

struct Health {
  bool draining = false;
  bool starting = false;  // start-up loaders still running
  bool redis = false;
  bool mariadb = false;
  bool up() const { return !draining && !starting && redis && mariadb; }
};

// Both stores are asked every time (one PING, one pool round trip): cheap, and the answer is
// what a request would meet now.
awaitable<Health> probe(Services& s) {
  Health h;
  h.draining = s.draining;
  h.starting = s.starting > 0;
  h.redis = static_cast<bool>(co_await redis::ping(s.local_redis()));
  h.mariadb = static_cast<bool>(co_await s.db.ping());
  co_return h;
}

const char* up_down(bool up) { return up ? "up" : "down"; }

// GET /health on the public listener: 200 {"status":"up"}, else 503 {"status":"down"} (while
// the start-up loaders run, while draining, or when a store does not answer). Which store is down
// is the operator's business.
awaitable<Response> public_health(Services& s) {
  // Draining answers at once: a balancer must see it even when the stores are slow.
  bool up = !s.draining && (co_await probe(s)).up();
  co_return http::json(up ? 200 : 503, up ? R"({"status":"up"})" : R"({"status":"down"})");
}

// GET /health on the admin listener: the stores' state in the envelope; 503 like the public one.
awaitable<Response> admin_health(Services& s) {
  Health h = co_await probe(s);
  json::object data;
  if (h.draining) {
    data.emplace("state", "draining");
  } else if (h.starting) {
    data.emplace("state", "starting");
  }
  data.emplace("redis", up_down(h.redis));
  data.emplace("mariadb", up_down(h.mariadb));
  if (h.up()) co_return http::json(200, envelope::ok(data));
  co_return http::json(503, envelope::fail(h.draining   ? "draining"
                                           : h.starting ? "starting"
                                                        : "dependency down",
                                           data));
}

awaitable<Response> metrics(Services& s) {
  // Awaited in its own statement: GCC 12 destroyed the render() temporary twice when both sat
  // in one braced initializer around the co_await (a double free).
  std::string sale = co_await s.dashboard->sale_metrics(s.local_redis());
  Response r{200, s.metrics->render() + sale};
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  co_return r;
}

awaitable<Response> dashboard_page_route(Services&) {
  Response r{200, std::string(dashboard_page())};
  r.content_type = "text/html; charset=utf-8";
  co_return r;
}

// GET /dashboard/data: DashboardFeed::data() (this instance's samples, every live instance's,
// the sale's figures) with the stores' state.
awaitable<Response> dashboard_data(Services& s) {
  Health h = co_await probe(s);
  json::object out = co_await s.dashboard->data(s.local_redis());
  out.emplace("redis", up_down(h.redis));
  out.emplace("mariadb", up_down(h.mariadb));
  co_return http::json(200, json::serialize(out));
}

// Admin routes take no session: reaching the admin listener is the credential.
std::string add_plain(http::Router& router, Services& s, std::string_view pattern,
                      awaitable<Response> (*fn)(Services&)) {
  router.add(verb::get, pattern, [&s, fn](Context&) { return fn(s); });
  return "GET " + std::string(pattern);
}

}  // namespace

void register_ops_routes(RouteTable& t) {
  t.add_handler(verb::get, "/health", Access::kPublic,
                [&s = t.services()](Context&) { return public_health(s); });
}

std::vector<std::string> register_admin_routes(http::Router& router, Services& s) {
  return {add_plain(router, s, "/metrics", metrics), add_plain(router, s, "/health", admin_health),
          add_plain(router, s, "/dashboard", dashboard_page_route),
          add_plain(router, s, "/dashboard/data", dashboard_data)};
}

}  // namespace surge::app
