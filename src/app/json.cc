// Domain → JSON.
#include "app/json.h"

#include "core/parse.h"

namespace surge::app {

void write_json(core::JsonWriter& w, const db::Shop& s) {
  w.begin_object();
  for (const auto& c : db::shop_columns()) {
    std::visit([&](auto member) { w.field(c.json, s.*member); }, c.member);
  }
  w.end_object();
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

namespace {

void user_fields(core::JsonWriter& w, int64_t id, const std::string& nick,
                 const std::string& icon) {
  w.begin_object().field("id", id).field("nickName", nick).field("icon", icon).end_object();
}

template <class T>
void optional_field(core::JsonWriter& w, std::string_view key, const std::optional<T>& v) {
  if (v) w.field(key, *v);
}

void blog_fields(core::JsonWriter& w, const db::Blog& b) {
  w.field("id", b.id)
      .field("shopId", b.shop_id)
      .field("userId", b.user_id)
      .field("title", b.title)
      .field("images", b.images)
      .field("content", b.content)
      .field("liked", b.liked);
  optional_field(w, "comments", b.comments);
  w.field("createTime", b.create_time).field("updateTime", b.update_time);
}

}  // namespace

void write_json(core::JsonWriter& w, const db::User& u) {
  user_fields(w, u.id, u.nick_name, u.icon);
}

void write_json(core::JsonWriter& w, const core::LoggedInUser& u) {
  user_fields(w, u.id, u.nick_name, u.icon);
}

void write_json(core::JsonWriter& w, const db::UserInfo& i) {
  w.begin_object().field("userId", i.user_id);
  optional_field(w, "city", i.city);
  optional_field(w, "introduce", i.introduce);
  optional_field(w, "fans", i.fans);
  optional_field(w, "followee", i.followee);
  // The original's entity declared gender as a Boolean (false male, true female)...
  if (i.gender) w.field("gender", *i.gender != 0);
  optional_field(w, "birthday", i.birthday);
  optional_field(w, "credits", i.credits);
  // ...and level too, which turned levels 2..9 into true. Surge keeps the number.
  optional_field(w, "level", i.level);
  w.end_object();
}

void write_json(core::JsonWriter& w, const db::Blog& b) {
  w.begin_object();
  blog_fields(w, b);
  w.end_object();
}

void write_json(core::JsonWriter& w, const social::BlogItem& v) {
  w.begin_object();
  blog_fields(w, v.blog);
  if (v.author) w.field("name", v.author->nick_name).field("icon", v.author->icon);
  if (v.liked) w.field("isLike", *v.liked);
  w.end_object();
}

}  // namespace surge::app
