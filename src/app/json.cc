// Domain → JSON.
#include "app/json.h"

#include <boost/json/object.hpp>

namespace surge::app {

namespace json = boost::json;

json::value to_json(const db::Shop& s) {
  json::object o;
  o.reserve(15);
  o.emplace("id", s.id);
  o.emplace("name", s.name);
  o.emplace("typeId", s.type_id);
  o.emplace("images", s.images);
  o.emplace("area", s.area);
  o.emplace("address", s.address);
  o.emplace("x", s.x);
  o.emplace("y", s.y);
  o.emplace("avgPrice", s.avg_price);
  o.emplace("sold", s.sold);
  o.emplace("comments", s.comments);
  o.emplace("score", s.score);
  o.emplace("openHours", s.open_hours);
  o.emplace("createTime", s.create_time);
  o.emplace("updateTime", s.update_time);
  return o;
}

json::value to_json(const db::ShopType& t) {
  json::object o;
  o.emplace("id", t.id);
  o.emplace("name", t.name);
  o.emplace("icon", t.icon);
  o.emplace("sort", t.sort);
  return o;
}

}  // namespace surge::app
