// Route registration for the hm-dianping API (same paths and envelope as the original). Each API
// area registers its handlers in its own file.
#pragma once

#include <string>
#include <vector>

#include "app/route_table.h"
#include "app/service.h"
#include "http/router.h"

namespace surge::app {

void register_shop_routes(RouteTable& t);  // shop_routes.cc: /shop, /shop-type, /health, /metrics
void register_voucher_routes(RouteTable& t);  // voucher_routes.cc: /voucher, /voucher-order

// Registers every route; returns the metric names of the route ids, in id order.
std::vector<std::string> register_routes(http::Router& router, Services& services);

}  // namespace surge::app
