// Every API area, registered in one place, for the server and for `surge routes` alike.
#include "app/routes.h"

#include <cstdio>

namespace surge::app {

namespace {

void register_all(RouteTable& table) {
  register_shop_routes(table);
  register_voucher_routes(table);
  register_user_routes(table);
  register_blog_routes(table);
  register_follow_routes(table);
  register_upload_routes(table);
  register_stats_routes(table);
  register_openapi_routes(table);
  register_ops_routes(table);
}

}  // namespace

std::vector<std::string> register_routes(http::Router& router, Services& services) {
  RouteTable table(router, services);
  register_all(table);
  return table.names();
}

std::vector<RouteInfo> list_routes() {
  // Handlers only keep references to these; none runs, and the pool connects lazily, so no
  // store is contacted.
  Config config;
  config.db.pool_size = 1;
  db::Pool pool(config.db);
  Services services{config, pool, db::ShopRepository(pool)};
  http::Router router;
  RouteTable table(router, services);
  register_all(table);
  return table.routes();
}

int print_routes() {
  for (const auto& r : list_routes()) {
    std::printf("%s %s %s\n", r.method.c_str(), r.pattern.c_str(),
                std::string(access_name(r.access)).c_str());
  }
  return 0;
}

}  // namespace surge::app
