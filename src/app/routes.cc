// Every API area, registered in one place.
#include "app/routes.h"

namespace surge::app {

std::vector<std::string> register_routes(http::Router& router, Services& services) {
  RouteTable table(router, services);
  register_shop_routes(table);
  register_voucher_routes(table);
  register_user_routes(table);
  register_blog_routes(table);
  register_follow_routes(table);
  register_upload_routes(table);
  register_stats_routes(table);
  return table.names();
}

}  // namespace surge::app
