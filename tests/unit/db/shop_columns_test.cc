// The shop row mapping (db::shop_columns()): one list of tb_shop's columns from which the SELECT
// list, row decoding, the API's JSON and the write checks all follow. Checked here against the
// Shop struct, the table as the bundled migrations create it, and the API's field names; the
// statements themselves run against MariaDB in tests/integration.
#include "db/shop_repository.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "db/migrate.h"
#include "db/sql_script.h"

namespace surge::db {
namespace {

using Member = decltype(ShopColumn::member);

const ShopColumn& column(std::string_view name) {
  for (const auto& c : shop_columns()) {
    if (name == c.column) return c;
  }
  throw std::out_of_range("no shop column " + std::string(name));
}

TEST(ShopColumns, ListEveryShopMemberOnceIdFirst) {
  const Member all[] = {&Shop::id,         &Shop::name,        &Shop::type_id,    &Shop::images,
                        &Shop::area,       &Shop::address,     &Shop::x,          &Shop::y,
                        &Shop::avg_price,  &Shop::sold,        &Shop::comments,   &Shop::score,
                        &Shop::open_hours, &Shop::create_time, &Shop::update_time};
  ASSERT_EQ(shop_columns().size(), std::size(all));
  for (const auto& m : all) {
    auto n = std::count_if(shop_columns().begin(), shop_columns().end(),
                           [&](const ShopColumn& c) { return c.member == m; });
    EXPECT_EQ(n, 1) << "member #" << (&m - all);
  }
  EXPECT_STREQ(shop_columns().front().column, "id");
  EXPECT_TRUE(shop_columns().front().member == Member(&Shop::id));
}

// The JSON names are the original API's (camelCase of the column), which clients depend on.
TEST(ShopColumns, ColumnsMapToTheApisJsonNames) {
  const std::pair<const char*, const char*> expected[] = {{"id", "id"},
                                                          {"name", "name"},
                                                          {"type_id", "typeId"},
                                                          {"images", "images"},
                                                          {"area", "area"},
                                                          {"address", "address"},
                                                          {"x", "x"},
                                                          {"y", "y"},
                                                          {"avg_price", "avgPrice"},
                                                          {"sold", "sold"},
                                                          {"comments", "comments"},
                                                          {"score", "score"},
                                                          {"open_hours", "openHours"},
                                                          {"create_time", "createTime"},
                                                          {"update_time", "updateTime"}};
  ASSERT_EQ(shop_columns().size(), std::size(expected));
  std::set<std::string> columns, jsons;
  for (size_t i = 0; i < std::size(expected); ++i) {
    const auto& c = shop_columns()[i];
    EXPECT_STREQ(c.column, expected[i].first);
    EXPECT_STREQ(c.json, expected[i].second) << c.column;
    columns.insert(c.column);
    jsons.insert(c.json);
  }
  EXPECT_EQ(columns.size(), std::size(expected));
  EXPECT_EQ(jsons.size(), std::size(expected));
}

TEST(ShopColumns, KindIsTheMembersType) {
  for (const auto& c : shop_columns()) {
    ShopColumn::Kind want = std::holds_alternative<int64_t Shop::*>(c.member) ? ShopColumn::kInteger
                            : std::holds_alternative<double Shop::*>(c.member) ? ShopColumn::kNumber
                                                                               : ShopColumn::kText;
    EXPECT_EQ(c.kind(), want) << c.column;
  }
  EXPECT_EQ(column("type_id").kind(), ShopColumn::kInteger);
  EXPECT_EQ(column("x").kind(), ShopColumn::kNumber);
  EXPECT_EQ(column("name").kind(), ShopColumn::kText);
}

// Rows are decoded by position and the list's names are the ones callers see, so an expression
// must still produce its column under the column's own name.
TEST(ShopColumns, SelectExpressionsKeepTheColumnName) {
  for (const auto& c : shop_columns()) {
    if (!c.select) continue;
    std::string select = c.select;
    std::string as = std::string(" AS ") + c.column;
    ASSERT_GE(select.size(), as.size()) << c.column;
    EXPECT_EQ(select.substr(select.size() - as.size()), as) << c.column;
    EXPECT_NE(select.find(std::string("(") + c.column), std::string::npos) << c.column;
  }
  // The API's times are ISO-8601 local forms, not MariaDB's "2021-12-22 18:10:39".
  for (const char* name : {"create_time", "update_time"}) {
    ASSERT_NE(column(name).select, nullptr) << name;
    EXPECT_NE(std::string(column(name).select).find("'%Y-%m-%dT%H:%i:%s'"), std::string::npos);
  }
}

// tb_shop as the bundled migrations leave it: the CREATE TABLE of the first, then the MODIFY
// clauses of later ones. Later migrations may add keys but never columns.
struct SqlColumn {
  std::string name;
  std::string type;  // upper case, with its length: VARCHAR(128), BIGINT(20), DOUBLE, ...
  bool is_unsigned = false;
  bool generated = false;  // AUTO_INCREMENT or DEFAULT CURRENT_TIMESTAMP: the database sets it
};

SqlColumn parse_column(std::istringstream& line) {
  SqlColumn c;
  line >> c.name >> c.type;
  std::string rest, word;
  while (line >> word) rest += " " + word;
  c.is_unsigned = rest.find(" UNSIGNED") != std::string::npos;
  c.generated = rest.find("AUTO_INCREMENT") != std::string::npos ||
                rest.find("DEFAULT CURRENT_TIMESTAMP") != std::string::npos;
  return c;
}

std::vector<SqlColumn> tb_shop_as_migrated() {
  std::vector<SqlColumn> out;
  for (const auto& m : bundled_migrations()) {
    for (const auto& st : split_sql(m.text)) {
      bool create = st.sql.find("CREATE TABLE IF NOT EXISTS tb_shop (") != std::string::npos;
      bool alter = st.sql.find("ALTER TABLE tb_shop\n") != std::string::npos ||
                   st.sql.find("ALTER TABLE tb_shop ") != std::string::npos;
      if (!create && !alter) continue;
      EXPECT_EQ(st.sql.find("ADD COLUMN"), std::string::npos) << st.sql;
      EXPECT_EQ(st.sql.find("DROP"), std::string::npos) << st.sql;
      EXPECT_EQ(st.sql.find("CHANGE"), std::string::npos) << st.sql;
      std::istringstream lines(st.sql);
      std::string line;
      std::getline(lines, line);  // CREATE TABLE ... ( / ALTER TABLE tb_shop
      while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first.empty()) continue;
        if (create && first != "PRIMARY" && first != "KEY" && !first.starts_with(")")) {
          std::istringstream again(line);
          out.push_back(parse_column(again));
        } else if (alter && first == "MODIFY") {
          SqlColumn c = parse_column(words);
          auto it = std::find_if(out.begin(), out.end(),
                                 [&](const SqlColumn& o) { return o.name == c.name; });
          EXPECT_NE(it, out.end()) << "MODIFY of an unknown column: " << line;
          if (it != out.end()) *it = c;
        }
      }
    }
  }
  return out;
}

TEST(ShopColumns, MatchTbShopAsMigrated) {
  auto table = tb_shop_as_migrated();
  ASSERT_EQ(table.size(), shop_columns().size());
  for (size_t i = 0; i < table.size(); ++i) {
    const SqlColumn& sql = table[i];
    const ShopColumn& c = shop_columns()[i];
    SCOPED_TRACE(sql.name);
    EXPECT_EQ(sql.name, c.column);
    if (sql.type.starts_with("VARCHAR(") || sql.type == "TIMESTAMP") {
      EXPECT_EQ(c.kind(), ShopColumn::kText);
    } else if (sql.type.starts_with("BIGINT") || sql.type.starts_with("INT")) {
      EXPECT_EQ(c.kind(), ShopColumn::kInteger);
    } else {
      EXPECT_EQ(sql.type, "DOUBLE");
      EXPECT_EQ(c.kind(), ShopColumn::kNumber);
    }
    // A write may set exactly the columns the database does not set itself.
    EXPECT_EQ(c.writable, !sql.generated);
    if (!c.writable) continue;
    // Within what the column stores (a VARCHAR's length counts characters, the bound bytes).
    if (sql.type.starts_with("VARCHAR(")) {
      double length = std::stod(sql.type.substr(8));
      EXPECT_GT(c.max, 0);
      EXPECT_LE(c.max, length);
    }
    if (sql.is_unsigned) {
      EXPECT_GE(c.min, 0);
    }
    if (sql.type.starts_with("INT")) {
      EXPECT_LE(c.max, 4294967295.0);
    }
    if (sql.type.starts_with("BIGINT")) {
      EXPECT_LE(c.max, 9007199254740992.0);  // 2^53: the check compares it as a double
    }
    EXPECT_LE(c.min, c.max);
  }
}

// Every column's value is distinct, so a member filled from the wrong column shows.
std::map<std::string, std::optional<std::string>> sample_row() {
  return {{"id", "7"},
          {"name", "Cafe 103"},
          {"type_id", "3"},
          {"images", "https://a/1.jpg,https://a/2.jpg"},
          {"area", "Daguan"},
          {"address", "Jinhua Rd 8"},
          {"x", "120.149192"},
          {"y", "30.316078"},
          {"avg_price", "80"},
          {"sold", "4215"},
          {"comments", "3035"},
          {"score", "37"},
          {"open_hours", "10:00-22:00"},
          {"create_time", "2021-12-22T18:10:39"},
          {"update_time", "2022-01-13T17:32:19"}};
}

std::vector<std::optional<std::string>> in_column_order(
    const std::map<std::string, std::optional<std::string>>& by_name) {
  std::vector<std::optional<std::string>> row;
  for (const auto& c : shop_columns()) row.push_back(by_name.at(c.column));
  return row;
}

TEST(ShopFromRow, FillsEachMemberFromItsColumn) {
  Rows rows;
  rows.rows.push_back(in_column_order(sample_row()));
  auto s = shop_from_row(rows, 0);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->id, 7);
  EXPECT_EQ(s->name, "Cafe 103");
  EXPECT_EQ(s->type_id, 3);
  EXPECT_EQ(s->images, "https://a/1.jpg,https://a/2.jpg");
  EXPECT_EQ(s->area, "Daguan");
  EXPECT_EQ(s->address, "Jinhua Rd 8");
  EXPECT_DOUBLE_EQ(s->x, 120.149192);
  EXPECT_DOUBLE_EQ(s->y, 30.316078);
  EXPECT_EQ(s->avg_price, 80);
  EXPECT_EQ(s->sold, 4215);
  EXPECT_EQ(s->comments, 3035);
  EXPECT_EQ(s->score, 37);
  EXPECT_EQ(s->open_hours, "10:00-22:00");
  EXPECT_EQ(s->create_time, "2021-12-22T18:10:39");
  EXPECT_EQ(s->update_time, "2022-01-13T17:32:19");
}

// area, avg_price, open_hours and the times are NULL-able in tb_shop.
TEST(ShopFromRow, NullsDecodeAsEmptyAndZero) {
  auto by_name = sample_row();
  for (const char* c : {"area", "avg_price", "open_hours", "create_time", "update_time"}) {
    by_name[c] = std::nullopt;
  }
  Rows rows;
  rows.rows.push_back(in_column_order(by_name));
  auto s = shop_from_row(rows, 0);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->area, "");
  EXPECT_EQ(s->avg_price, 0);
  EXPECT_EQ(s->open_hours, "");
  EXPECT_EQ(s->create_time, "");
  EXPECT_EQ(s->update_time, "");
  EXPECT_EQ(s->name, "Cafe 103");
  EXPECT_EQ(s->sold, 4215);
}

TEST(ShopFromRow, DecodesTheRowAtTheIndex) {
  auto second = sample_row();
  second["id"] = "8";
  second["name"] = "Tea 2";
  Rows rows;
  rows.rows.push_back(in_column_order(sample_row()));
  rows.rows.push_back(in_column_order(second));
  auto s = shop_from_row(rows, 1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, 8);
  EXPECT_EQ(s->name, "Tea 2");
  EXPECT_EQ(shop_from_row(rows, 0)->id, 7);
}

// A row of another shape means the SELECT list and the decoder disagree: a bug, not data.
TEST(ShopFromRow, RefusesARowOfAnotherShapeOrWithoutAnId) {
  auto full = in_column_order(sample_row());
  auto refused = [](std::vector<std::optional<std::string>> row) {
    Rows rows;
    rows.rows.push_back(std::move(row));
    auto s = shop_from_row(rows, 0);
    return !s && s.error() == make_error_code(Errc::kInternal);
  };
  auto shorter = full;
  shorter.pop_back();
  EXPECT_TRUE(refused(shorter));
  auto longer = full;
  longer.push_back("extra");
  EXPECT_TRUE(refused(longer));
  auto null_id = full;
  null_id[0] = std::nullopt;
  EXPECT_TRUE(refused(null_id));
  auto text_id = full;
  text_id[0] = "seven";
  EXPECT_TRUE(refused(text_id));
  EXPECT_FALSE(refused(full));
}

// A value one past `c`'s bounds in its own type.
std::vector<Param> just_outside(const ShopColumn& c) {
  switch (c.kind()) {
    case ShopColumn::kText:
      return {std::string(static_cast<size_t>(c.max) + 1, 'a')};
    case ShopColumn::kInteger:
      return {static_cast<int64_t>(c.min) - 1, static_cast<int64_t>(c.max) + 1};
    case ShopColumn::kNumber:
      return {std::nextafter(c.min, -1e300), std::nextafter(c.max, 1e300),
              std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()};
  }
  return {};
}

std::vector<Param> at_bounds(const ShopColumn& c) {
  switch (c.kind()) {
    case ShopColumn::kText:
      return {std::string(), std::string(static_cast<size_t>(c.max), 'a')};
    case ShopColumn::kInteger:
      return {static_cast<int64_t>(c.min), static_cast<int64_t>(c.max)};
    case ShopColumn::kNumber:
      return {c.min, c.max, static_cast<int64_t>(c.min)};
  }
  return {};
}

TEST(CheckShopFields, AcceptsEveryWritableColumnUpToItsBoundsAndNoFurther) {
  size_t writable = 0;
  for (const auto& c : shop_columns()) {
    if (!c.writable) continue;
    ++writable;
    SCOPED_TRACE(c.column);
    for (const auto& v : at_bounds(c)) {
      EXPECT_EQ(check_shop_fields({{c.column, v}}), std::nullopt);
    }
    for (const auto& v : just_outside(c)) {
      auto why = check_shop_fields({{c.column, v}});
      ASSERT_TRUE(why);
      EXPECT_TRUE(why->starts_with(std::string("invalid field: ") + c.json + " (")) << *why;
    }
  }
  EXPECT_EQ(writable, 12u);
}

TEST(CheckShopFields, TheBoundsAreTheOnesTheStoresNeed) {
  EXPECT_EQ(column("name").max, 128);
  EXPECT_EQ(column("images").max, 1024);
  EXPECT_EQ(column("address").max, 255);
  EXPECT_EQ(column("open_hours").max, 32);
  EXPECT_EQ(column("type_id").min, 1);  // no shop type 0
  EXPECT_EQ(column("score").max, 50);   // five stars times ten
  EXPECT_EQ(column("sold").max, 4294967295.0);
  EXPECT_EQ(column("x").max, kMaxLongitude);
  EXPECT_EQ(column("y").max, kMaxLatitude);
}

// Text bounds are bytes: 42 three-byte characters fit a 128-byte name, 43 do not.
TEST(CheckShopFields, TextBoundsCountBytes) {
  std::string han = "\xe4\xb8\xad";  // U+4E2D
  std::string fits, over;
  for (int i = 0; i < 42; ++i) fits += han;
  over = fits + han;
  EXPECT_EQ(check_shop_fields({{"name", fits + "ab"}}), std::nullopt);  // 128 bytes
  EXPECT_EQ(check_shop_fields({{"name", over}}),
            std::optional<std::string>("invalid field: name (at most 128 bytes)"));
}

TEST(CheckShopFields, RefusesValuesOfTheWrongType) {
  EXPECT_EQ(check_shop_fields({{"name", int64_t{5}}}),
            std::optional<std::string>("invalid field: name (must be text)"));
  EXPECT_EQ(check_shop_fields({{"type_id", std::string("1")}}),
            std::optional<std::string>("invalid field: typeId (must be an integer)"));
  EXPECT_EQ(check_shop_fields({{"sold", 1.5}}),
            std::optional<std::string>("invalid field: sold (must be an integer)"));
  EXPECT_EQ(check_shop_fields({{"x", std::string("120")}}),
            std::optional<std::string>("invalid field: x (must be a number)"));
  EXPECT_TRUE(check_shop_fields({{"area", nullptr}}));
  EXPECT_TRUE(check_shop_fields({{"score", nullptr}}));
}

// Only the whitelisted column names, never the JSON names or the database's own columns.
TEST(CheckShopFields, RefusesColumnsAWriteMayNotSet) {
  for (const char* name : {"id", "create_time", "update_time", "typeId", "avgPrice", "owner", ""}) {
    EXPECT_EQ(check_shop_fields({{name, int64_t{1}}}),
              std::optional<std::string>(fmt::format("invalid field: {} (not writable)", name)));
  }
}

TEST(CheckShopFields, NamesTheFirstBadField) {
  ShopFields fields{{"name", std::string("ok")},
                    {"score", int64_t{51}},
                    {"sold", int64_t{-1}},
                    {"id", int64_t{1}}};
  EXPECT_EQ(check_shop_fields(fields),
            std::optional<std::string>("invalid field: score (must be within 0..50)"));
  EXPECT_EQ(check_shop_fields({}), std::nullopt);
  EXPECT_EQ(check_shop_fields({{"name", std::string("Cafe")},
                               {"type_id", int64_t{1}},
                               {"x", 120.149192},
                               {"y", 30.316078}}),
            std::nullopt);
}

// A write the checks accept must also be storable in the geo index, and the other way round.
TEST(GeoStorable, AgreesWithTheCoordinateColumnsBounds) {
  const ShopColumn& x = column("x");
  const ShopColumn& y = column("y");
  EXPECT_TRUE(geo_storable(x.min, y.min));
  EXPECT_TRUE(geo_storable(x.max, y.max));
  EXPECT_FALSE(geo_storable(std::nextafter(x.max, 1e300), y.max));
  EXPECT_FALSE(geo_storable(x.max, std::nextafter(y.max, 1e300)));
  EXPECT_FALSE(geo_storable(-0.5, 10));
  EXPECT_FALSE(geo_storable(10, -0.5));
  EXPECT_FALSE(geo_storable(std::numeric_limits<double>::quiet_NaN(), 10));
  EXPECT_FALSE(geo_storable(10, std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(geo_storable(120.149192, 30.316078));
}

}  // namespace
}  // namespace surge::db
