// SQL for shops and shop types.
#include "db/shop_repository.h"

#include <cmath>
#include <iterator>
#include <type_traits>

#include <fmt/format.h>

#include "db/sql_list.h"

namespace surge::db {

namespace {

constexpr ShopColumn kColumns[] = {
    {.column = "id", .json = "id", .member = &Shop::id},
    {"name", "name", &Shop::name, true, 0, 128},
    {"type_id", "typeId", &Shop::type_id, true, 1, 1e12},
    {"images", "images", &Shop::images, true, 0, 1024},
    {"area", "area", &Shop::area, true, 0, 128},
    {"address", "address", &Shop::address, true, 0, 255},
    {"x", "x", &Shop::x, true, 0, kMaxLongitude},
    {"y", "y", &Shop::y, true, 0, kMaxLatitude},
    {"avg_price", "avgPrice", &Shop::avg_price, true, 0, 1e12},
    {"sold", "sold", &Shop::sold, true, 0, 4294967295.0},
    {"comments", "comments", &Shop::comments, true, 0, 4294967295.0},
    {"score", "score", &Shop::score, true, 0, 50},
    {"open_hours", "openHours", &Shop::open_hours, true, 0, 32},
    {.column = "create_time",
     .json = "createTime",
     .member = &Shop::create_time,
     .select = "DATE_FORMAT(create_time, '%Y-%m-%dT%H:%i:%s') AS create_time"},
    {.column = "update_time",
     .json = "updateTime",
     .member = &Shop::update_time,
     .select = "DATE_FORMAT(update_time, '%Y-%m-%dT%H:%i:%s') AS update_time"},
};

std::string text(const std::optional<std::string>& v) { return v ? *v : std::string(); }

// The SELECT list of every shop query, so rows always decode the same way.
const std::string& select_list() {
  static const std::string list = [] {
    std::string out;
    for (const auto& c : kColumns) {
      if (!out.empty()) out += ", ";
      out += c.select ? c.select : c.column;
    }
    return out;
  }();
  return list;
}

std::optional<std::string> check_one(const ShopColumn& rule, const Param& value) {
  auto bad = [&](std::string_view why) {
    return fmt::format("invalid field: {} ({})", rule.json, why);
  };
  switch (rule.kind()) {
    case ShopColumn::kText: {
      const auto* t = std::get_if<std::string>(&value);
      if (!t) return bad("must be text");
      if (t->size() > rule.max) return bad(fmt::format("at most {} bytes", rule.max));
      return std::nullopt;
    }
    case ShopColumn::kInteger: {
      const auto* n = std::get_if<int64_t>(&value);
      if (!n) return bad("must be an integer");
      if (*n < rule.min || static_cast<double>(*n) > rule.max) {
        return bad(fmt::format("must be within {}..{}", rule.min, rule.max));
      }
      return std::nullopt;
    }
    case ShopColumn::kNumber: {
      double d = 0;
      if (const auto* n = std::get_if<int64_t>(&value)) {
        d = static_cast<double>(*n);
      } else if (const auto* f = std::get_if<double>(&value)) {
        d = *f;
      } else {
        return bad("must be a number");
      }
      if (!std::isfinite(d) || d < rule.min || d > rule.max) {
        return bad(fmt::format("must be within {}..{}", rule.min, rule.max));
      }
      return std::nullopt;
    }
  }
  return bad("unknown kind");
}

}  // namespace

std::span<const ShopColumn> shop_columns() { return kColumns; }

bool geo_storable(double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && x >= 0 && x <= kMaxLongitude && y >= 0 &&
         y <= kMaxLatitude;
}

std::optional<std::string> check_shop_fields(const ShopFields& fields) {
  for (const auto& [column, value] : fields) {
    const ShopColumn* rule = nullptr;
    for (const auto& r : shop_columns()) {
      if (r.writable && column == r.column) rule = &r;
    }
    if (!rule) return fmt::format("invalid field: {} (not writable)", column);
    if (auto why = check_one(*rule, value)) return why;
  }
  return std::nullopt;
}

Result<Shop> shop_from_row(const Rows& rows, size_t i) {
  const auto& r = rows.rows.at(i);
  if (r.size() != std::size(kColumns) || !to_int64(r[0])) return Errc::kInternal;
  Shop s;
  for (size_t c = 0; c < r.size(); ++c) {
    const auto& v = r[c];
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(s.*member)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            s.*member = to_int64(v).value_or(0);
          } else if constexpr (std::is_same_v<T, double>) {
            s.*member = to_double(v).value_or(0);
          } else {
            s.*member = text(v);
          }
        },
        kColumns[c].member);
  }
  return s;
}

asio::awaitable<Result<std::optional<Shop>>> ShopRepository::find(int64_t id) {
  static const std::string sql = "SELECT " + select_list() + " FROM tb_shop WHERE id = ?";
  Params params;
  params.emplace_back(id);
  auto rows = co_await pool_.query(sql, std::move(params));
  if (!rows) co_return rows.error();
  if (rows->empty()) co_return std::optional<Shop>();
  auto shop = shop_from_row(*rows, 0);
  if (!shop) co_return shop.error();
  co_return std::optional<Shop>(std::move(*shop));
}

namespace {
Result<std::vector<Shop>> shops_from(const Result<Rows>& rows) {
  if (!rows) return rows.error();
  std::vector<Shop> out;
  out.reserve(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    auto s = shop_from_row(*rows, i);
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

std::string like_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}
}  // namespace

asio::awaitable<Result<std::vector<Shop>>> ShopRepository::page_by_type(int64_t type_id,
                                                                        int64_t offset,
                                                                        int64_t limit) {
  if (!page_allowed(offset, limit)) co_return make_error_code(Errc::kInvalidArgument);
  static const std::string sql =
      "SELECT " + select_list() + " FROM tb_shop WHERE type_id = ? ORDER BY id LIMIT ? OFFSET ?";
  Params params;
  params.emplace_back(type_id);
  params.emplace_back(limit);
  params.emplace_back(offset);
  auto rows = co_await pool_.query(sql, std::move(params));
  co_return shops_from(rows);
}

asio::awaitable<Result<std::vector<Shop>>> ShopRepository::page_by_name(std::string part,
                                                                        int64_t offset,
                                                                        int64_t limit) {
  if (!page_allowed(offset, limit)) co_return make_error_code(Errc::kInvalidArgument);
  static const std::string sql =
      "SELECT " + select_list() + " FROM tb_shop WHERE name LIKE ? ORDER BY id LIMIT ? OFFSET ?";
  Params params;
  params.emplace_back("%" + like_escape(part) + "%");
  params.emplace_back(limit);
  params.emplace_back(offset);
  auto rows = co_await pool_.query(sql, std::move(params));
  co_return shops_from(rows);
}

asio::awaitable<Result<std::vector<ShopRepository::Location>>> ShopRepository::all_locations() {
  auto rows = co_await pool_.query("SELECT id, type_id, x, y FROM tb_shop");
  if (!rows) co_return rows.error();
  std::vector<Location> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    out.push_back({to_int64(r[0]).value_or(0), to_int64(r[1]).value_or(0),
                   to_double(r[2]).value_or(0), to_double(r[3]).value_or(0)});
  }
  co_return out;
}

asio::awaitable<Result<std::vector<ShopType>>> ShopRepository::types() {
  auto rows = co_await pool_.query("SELECT id, name, icon, sort FROM tb_shop_type ORDER BY sort");
  if (!rows) co_return rows.error();
  std::vector<ShopType> out;
  out.reserve(rows->size());
  for (const auto& r : rows->rows) {
    out.push_back({to_int64(r[0]).value_or(0), text(r[1]), text(r[2]), to_int64(r[3]).value_or(0)});
  }
  co_return out;
}

asio::awaitable<Result<int64_t>> ShopRepository::insert(ShopFields fields) {
  if (check_shop_fields(fields)) co_return make_error_code(Errc::kInvalidArgument);
  std::string sql = "INSERT INTO tb_shop (";
  std::string marks;
  Params params;
  for (auto& [column, value] : fields) {
    sql += (params.empty() ? "" : ", ") + column;
    marks += params.empty() ? "?" : ", ?";
    params.push_back(std::move(value));
  }
  sql += ") VALUES (" + marks + ")";
  auto r = co_await pool_.execute(std::move(sql), std::move(params));
  if (!r) co_return r.error();
  co_return static_cast<int64_t>(r->insert_id);
}

asio::awaitable<Result<bool>> ShopRepository::update(int64_t id, ShopFields fields) {
  if (fields.empty() || check_shop_fields(fields))
    co_return Result<bool>(boost::system::in_place_error, make_error_code(Errc::kInvalidArgument));
  std::string sql = "UPDATE tb_shop SET ";
  Params params;
  for (auto& [column, value] : fields) {
    sql += (params.empty() ? "" : ", ") + column + " = ?";
    params.push_back(std::move(value));
  }
  sql += " WHERE id = ?";
  params.emplace_back(id);
  auto r = co_await pool_.execute(std::move(sql), std::move(params));
  if (!r) co_return Result<bool>(boost::system::in_place_error, r.error());
  // affected_rows counts changed rows; an update to identical values still found the shop.
  if (r->affected_rows > 0) co_return true;
  Params check;
  check.emplace_back(id);
  auto exists = co_await pool_.query("SELECT 1 FROM tb_shop WHERE id = ?", std::move(check));
  if (!exists) co_return Result<bool>(boost::system::in_place_error, exists.error());
  co_return !exists->empty();
}

asio::awaitable<Result<bool>> ShopRepository::remove(int64_t id) {
  Params params;
  params.emplace_back(id);
  auto r = co_await pool_.execute("DELETE FROM tb_shop WHERE id = ?", std::move(params));
  if (!r) co_return Result<bool>(boost::system::in_place_error, r.error());
  co_return r->affected_rows > 0;
}

asio::awaitable<Result<std::vector<std::string>>> ShopRepository::all_ids() {
  auto rows = co_await pool_.query("SELECT id FROM tb_shop");
  if (!rows) co_return rows.error();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (auto& r : rows->rows) {
    if (r[0]) out.push_back(std::move(*r[0]));
  }
  co_return out;
}

}  // namespace surge::db
