// Route registration for the hm-dianping API (same paths and envelope as the original). Each API
// area registers its handlers in its own file.
#pragma once

#include <string>
#include <vector>

#include "app/route_table.h"
#include "app/service.h"
#include "http/router.h"

namespace surge::app {

void register_shop_routes(RouteTable& t);     // shop_routes.cc: /shop, /shop-type
void register_voucher_routes(RouteTable& t);  // voucher_routes.cc: /voucher, /voucher-order
void register_user_routes(RouteTable& t);     // user_routes.cc: /user/**
void register_blog_routes(RouteTable& t);     // blog_routes.cc: /blog/**
void register_follow_routes(RouteTable& t);   // follow_routes.cc: /follow/**
void register_upload_routes(RouteTable& t);   // upload_routes.cc: /upload/**
void register_stats_routes(RouteTable& t);    // stats_routes.cc: /stats/uv
void register_openapi_routes(RouteTable& t);  // openapi_routes.cc: /openapi.json
void register_ops_routes(RouteTable& t);      // ops_routes.cc: /health (up/down only)

// Registers every route; returns the metric names of the route ids, in id order.
std::vector<std::string> register_routes(http::Router& router, Services& services);

// The admin listener's routes (ops_routes.cc: /metrics, /health in full, /dashboard,
// /dashboard/data) on their own router; returns their metric names in id order.
std::vector<std::string> register_admin_routes(http::Router& router, Services& services);

// The same registration on a throw-away router, without stores: what `surge routes` prints and
// what the API document is checked against.
std::vector<RouteInfo> list_routes();

// `surge routes`: one "METHOD PATTERN ACCESS" line per route, ACCESS being public or login.
int print_routes();

}  // namespace surge::app
