// Shop and shop-type handlers. Each one parses and validates its input, calls
// the engine, and renders the envelope; errors go through error_response() so statuses stay
// consistent.
#include "app/routes.h"

#include <algorithm>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/request.h"
#include "app/route_table.h"
#include "cache/shop_places.h"
#include "core/parse.h"
#include "core/sanitize.h"
#include "http/envelope.h"
#include "shop/catalog.h"

namespace surge::app {

namespace {

namespace json = boost::json;

// Collects the writable fields (db::shop_columns(): every store's bounds) present in `o`;
// anything else in a body (id, createTime, ...) is ignored, and so is a null, as the original's
// updateById did. Returns the message for a 400 on a bad value.
std::optional<std::string> shop_fields(const json::object& o, db::ShopFields& out) {
  FieldReader r(o);
  for (const auto& f : db::shop_columns()) {
    if (!f.writable || !r.present(f.json)) continue;
    if (f.kind() == db::ShopColumn::kText) {
      std::string t;
      // Every text a page shows is plain text; images are also only safe image references.
      if (r.plain_text(f.json, static_cast<size_t>(f.max), t).ok()) {
        if (f.json == std::string_view("images") && !core::is_safe_image_list(t, 64)) {
          return "invalid field: images";
        }
        out.emplace_back(f.column, t);
      }
    } else if (f.kind() == db::ShopColumn::kInteger) {
      int64_t n = 0;
      r.integer(f.json, static_cast<int64_t>(f.min), static_cast<int64_t>(f.max), n);
      if (r.ok()) out.emplace_back(f.column, n);
    } else {
      double d = 0;
      if (r.number(f.json, f.min, f.max, d).ok()) out.emplace_back(f.column, d);
    }
    if (!r.ok()) return r.error();
  }
  return std::nullopt;
}

namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

class ShopApi {
 public:
  explicit ShopApi(Services& s) : s_(s) {}

  awaitable<Response> shop_by_id(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid shop id");
    // The canonical decimal form, so "007" and "7" share one cache entry.
    auto shop = co_await s_.shop_cache->get(ctx.worker, std::to_string(*id));
    if (!shop) co_return error_response(shop.error());
    if (!*shop) co_return business_failure("店铺不存在");
    co_return http::json(200, envelope::ok_raw(**shop));
  }

  // POST /shop: the row, the Bloom filter, the geo index and the caches, in the engine.
  awaitable<Response> create_shop(Context& ctx) {
    auto body = parse_object(ctx.request.body());
    if (auto* msg = std::get_if<std::string>(&body)) co_return bad_request(*msg);
    const auto& o = std::get<json::object>(body);
    shop::NewShop shop;
    if (auto bad = shop_fields(o, shop.fields)) co_return bad_request(*bad);
    auto has = [&](std::string_view column) {
      return std::any_of(shop.fields.begin(), shop.fields.end(),
                         [&](auto& f) { return f.first == column; });
    };
    if (!has("name") || !has("type_id") || !has("x") || !has("y")) {
      co_return bad_request("name, typeId, x and y are required");
    }
    // Checked against what every store accepts (the geo index's latitude range included)
    // before the engine writes anything.
    if (auto refused = db::check_shop_fields(shop.fields)) co_return bad_request(*refused);
    shop.type_id = o.at("typeId").to_number<int64_t>();
    shop.x = o.at("x").to_number<double>();
    shop.y = o.at("y").to_number<double>();
    auto id = co_await s_.catalog->create(ctx.worker, s_.local_redis(), std::move(shop));
    if (!id) co_return error_response(id.error());
    co_return http::json(200, envelope::ok(json::value(*id)));
  }

  // PUT /shop: update the row, its place in the geo index and the cache everywhere before
  // answering, so any read that starts after this response sees the new value.
  awaitable<Response> update_shop(Context& ctx) {
    auto body = parse_object(ctx.request.body());
    if (auto* msg = std::get_if<std::string>(&body)) co_return bad_request(*msg);
    const auto& o = std::get<json::object>(body);
    const json::value* idv = o.if_contains("id");
    if (!idv || idv->is_null()) co_return business_failure("店铺id不能为空");
    if (!idv->is_int64() || idv->as_int64() < 1) co_return bad_request("invalid field: id");
    db::ShopFields fields;
    if (auto bad = shop_fields(o, fields)) co_return bad_request(*bad);
    if (fields.empty()) co_return bad_request("nothing to update");
    if (auto refused = db::check_shop_fields(fields)) co_return bad_request(*refused);
    auto found = co_await s_.catalog->update(ctx.worker, s_.local_redis(), idv->as_int64(),
                                             std::move(fields));
    if (!found) co_return error_response(found.error());
    if (!*found) co_return business_failure("店铺不存在");
    co_return http::json(200, envelope::ok());
  }

  // GET /shop-type/list, through the cache engine like shops (one entry, id "all").
  awaitable<Response> shop_types(Context& ctx) {
    auto types = co_await s_.type_cache->get(ctx.worker, "all");
    if (!types) co_return error_response(types.error());
    co_return http::json(200, envelope::ok_raw(types->value_or("[]")));
  }

  // GET /shop/of/type?typeId=&current=[&x=&y=]: with coordinates, shops of that type within
  // 5 km nearest first, each with "distance" in metres; without, a page by id from MariaDB.
  awaitable<Response> shops_of_type(Context& ctx) {
    constexpr int64_t kPage = 5;  // the original's DEFAULT_PAGE_SIZE
    auto type_text = ctx.query_param("typeId");
    auto type = type_text ? core::parse_id(*type_text) : std::nullopt;
    if (!type) co_return bad_request("invalid typeId");
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    auto xs = ctx.query_param("x"), ys = ctx.query_param("y");
    if (xs.has_value() != ys.has_value()) co_return bad_request("x and y go together");
    int64_t from = (*current - 1) * kPage;
    if (!xs) {
      auto shops = co_await s_.shops.page_by_type(*type, from, kPage);
      if (!shops) co_return error_response(shops.error());
      co_return http::json(200, envelope::ok_raw(to_json(*shops)));
    }
    auto x = core::parse_double(*xs), y = core::parse_double(*ys);
    // GEOSEARCH accepts latitudes up to ±85.05112878 only.
    if (!x || !y || *x < -180 || *x > 180 || *y < -85.05112878 || *y > 85.05112878) {
      co_return bad_request("invalid coordinates");
    }
    auto shops =
        co_await s_.catalog->nearby(ctx.worker, s_.local_redis(), *type, *x, *y, 5000, from, kPage);
    if (!shops) co_return error_response(shops.error());
    std::string out = "[";
    for (const auto& shop : *shops) {
      if (out.size() > 1) out += ',';
      // Splice the distance into the cached JSON object instead of re-encoding it.
      out.append(shop.json, 0, shop.json.size() - 1);
      fmt::format_to(std::back_inserter(out), ",\"distance\":{}}}", shop.distance_m);
    }
    out += ']';
    co_return http::json(200, envelope::ok_raw(out));
  }

  // GET /shop/of/name?name=&current=: shops whose name contains `name`, 10 a page.
  awaitable<Response> shops_of_name(Context& ctx) {
    constexpr int64_t kPage = 10;  // the original's MAX_PAGE_SIZE
    auto current = page_number(ctx);
    if (!current) co_return bad_request("invalid current");
    std::string name = ctx.query_param("name").value_or("");
    if (name.size() > 128) co_return bad_request("name too long");
    auto shops = co_await s_.shops.page_by_name(std::move(name), (*current - 1) * kPage, kPage);
    if (!shops) co_return error_response(shops.error());
    co_return http::json(200, envelope::ok_raw(to_json(*shops)));
  }

 private:
  Services& s_;
};

}  // namespace

void register_shop_routes(RouteTable& t) {
  auto api = std::make_shared<ShopApi>(t.services());
  using enum Access;
  t.add(verb::get, "/shop/{id}", kPublic, api, &ShopApi::shop_by_id);
  t.add(verb::post, "/shop", kAdmin, api, &ShopApi::create_shop);
  t.add(verb::put, "/shop", kAdmin, api, &ShopApi::update_shop);
  t.add(verb::get, "/shop/of/type", kPublic, api, &ShopApi::shops_of_type);
  t.add(verb::get, "/shop/of/name", kPublic, api, &ShopApi::shops_of_name);
  t.add(verb::get, "/shop-type/list", kPublic, api, &ShopApi::shop_types);
}

}  // namespace surge::app
