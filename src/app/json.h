// JSON forms of domain rows, with the original's field names (camelCase, as Jackson wrote them).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "core/user.h"
#include "db/blog_repository.h"
#include "db/shop_repository.h"
#include "db/user_repository.h"
#include "db/voucher_repository.h"
#include "social/blogs.h"

namespace surge::app {

void write_json(core::JsonWriter& w, const db::Shop& shop);
void write_json(core::JsonWriter& w, const db::ShopType& type);
// Flash-sale vouchers carry stock, beginTime and endTime; normal ones omit them.
void write_json(core::JsonWriter& w, const db::Voucher& voucher);
// UserDTO {id, nickName, icon}.
void write_json(core::JsonWriter& w, const db::User& user);
void write_json(core::JsonWriter& w, const core::LoggedInUser& user);
// UserInfo without createTime/updateTime (the original nulled them); absent columns omitted.
void write_json(core::JsonWriter& w, const db::UserInfo& info);
// A blog as stored (of/me, of/user: the original returned raw rows).
void write_json(core::JsonWriter& w, const db::Blog& blog);

// A blog with its author's name and icon (omitted without an author) and, for a logged-in
// reader, isLike.
void write_json(core::JsonWriter& w, const social::BlogItem& item);

// The serialised form of one value or a list of values.
template <class T>
std::string to_json(const T& v) {
  core::JsonWriter w;
  write_json(w, v);
  return w.take();
}
template <class T>
std::string to_json(const std::vector<T>& list) {
  core::JsonWriter w;
  w.begin_array();
  for (const auto& v : list) write_json(w, v);
  w.end_array();
  return w.take();
}

}  // namespace surge::app
