// JSON forms of domain rows, with the original's field names (camelCase, as Jackson wrote them).
#pragma once

#include <boost/json/value.hpp>

#include "db/shop_repository.h"

namespace surge::app {

boost::json::value to_json(const db::Shop& shop);
boost::json::value to_json(const db::ShopType& type);

}  // namespace surge::app
