// Domain → JSON.
#include "app/json.h"

#include "core/parse.h"

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

void write_json(core::JsonWriter& w, const db::Voucher& v) {
  w.begin_object()
      .field("id", v.id)
      .field("shopId", v.shop_id)
      .field("title", v.title)
      .field("subTitle", v.sub_title)
      .field("rules", v.rules)
      .field("payValue", v.pay_value)
      .field("actualValue", v.actual_value)
      .field("type", v.type)
      .field("status", v.status);
  if (v.stock) {
    w.field("stock", *v.stock)
        .field("beginTime", core::format_datetime(v.begin_ms))
        .field("endTime", core::format_datetime(v.end_ms));
  }
  w.field("createTime", v.create_time).field("updateTime", v.update_time).end_object();
}

}  // namespace surge::app
