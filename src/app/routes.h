// Route registration for the hm-dianping API (same paths and envelope as the original).
#pragma once

#include <string>
#include <vector>

#include "app/service.h"
#include "http/router.h"

namespace surge::app {

// Registers every route; returns the metric names of the route ids, in id order.
std::vector<std::string> register_routes(http::Router& router, Services& services);

}  // namespace surge::app
