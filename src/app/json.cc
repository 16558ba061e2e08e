// Domain → JSON.
#include "app/json.h"

namespace surge::app {

void write_json(core::JsonWriter& w, const db::Shop& s) {
  w.begin_object()
      .field("id", s.id)
      .field("name", s.name)
      .field("typeId", s.type_id)
      .field("images", s.images)
      .field("area", s.area)
      .field("address", s.address)
      .field("x", s.x)
      .field("y", s.y)
      .field("avgPrice", s.avg_price)
      .field("sold", s.sold)
      .field("comments", s.comments)
      .field("score", s.score)
      .field("openHours", s.open_hours)
      .field("createTime", s.create_time)
      .field("updateTime", s.update_time)
      .end_object();
}

void write_json(core::JsonWriter& w, const db::ShopType& t) {
  w.begin_object()
      .field("id", t.id)
      .field("name", t.name)
      .field("icon", t.icon)
      .field("sort", t.sort)
      .end_object();
}

}  // namespace surge::app
