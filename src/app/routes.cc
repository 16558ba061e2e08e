// Handlers. Each one parses and validates its input, calls the engine, and renders the envelope;
// errors go through error_response() so statuses stay consistent.
#include "app/routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "core/parse.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

class Api {
 public:
  explicit Api(Services& s) : s_(s) {}

  awaitable<Response> shop_by_id(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid shop id");
    // The canonical decimal form, so "007" and "7" share one cache entry.
    auto shop = co_await s_.shop_cache->get(ctx.worker, std::to_string(*id));
    if (!shop) co_return error_response(shop.error());
    if (!*shop) co_return business_failure("店铺不存在");
    co_return http::json(200, envelope::ok_raw(**shop));
  }

  awaitable<Response> shop_types(Context&) {
    auto types = co_await s_.shops.types();
    if (!types) co_return error_response(types.error());
    co_return http::json(200, envelope::ok_raw(to_json(*types)));
  }

  // 200 when Redis and MariaDB both answer, 503 otherwise; the body says which is down.
  awaitable<Response> health(Context& ctx) {
    auto pong = co_await s_.redis_for(ctx.worker).exec(redis::Command::make("PING"));
    bool redis_up = pong && pong->is_string();
    auto db = co_await s_.db.ping();
    bool db_up = static_cast<bool>(db);
    json::object data;
    data.emplace("redis", redis_up ? "up" : "down");
    data.emplace("mariadb", db_up ? "up" : "down");
    if (redis_up && db_up) co_return http::json(200, envelope::ok(data));
    co_return http::json(503, envelope::fail("dependency down", data));
  }

  awaitable<Response> metrics(Context&) {
    Response r{200, s_.metrics->render()};
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return r;
  }

 private:
  Services& s_;
};

}  // namespace

std::vector<std::string> register_routes(http::Router& router, Services& services) {
  auto api = std::make_shared<Api>(services);
  std::vector<std::string> names;
  // Non-coroutine lambdas forwarding to member coroutines: the shared Api outlives every call.
  auto add = [&](verb v, std::string_view pattern, awaitable<Response> (Api::*fn)(Context&)) {
    router.add(v, pattern, [api, fn](Context& ctx) { return ((*api).*fn)(ctx); });
    names.push_back(std::string(boost::beast::http::to_string(v)) + " " + std::string(pattern));
  };
  add(verb::get, "/shop/{id}", &Api::shop_by_id);
  add(verb::get, "/shop-type/list", &Api::shop_types);
  add(verb::get, "/health", &Api::health);
  add(verb::get, "/metrics", &Api::metrics);
  return names;
}

}  // namespace surge::app
