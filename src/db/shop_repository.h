// Shops and shop types in MariaDB (tb_shop, tb_shop_type).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

struct Shop {
  int64_t id = 0;
  std::string name;
  int64_t type_id = 0;
  std::string images;  // comma-separated URLs, as in the original
  std::string area;
  std::string address;
  double x = 0;  // longitude
  double y = 0;  // latitude
  int64_t avg_price = 0;
  int64_t sold = 0;
  int64_t comments = 0;
  int64_t score = 0;  // 10..50: stars x 10
  std::string open_hours;
  std::string create_time;  // ISO-8601 local form, e.g. 2021-12-22T18:10:39 (UTC)
  std::string update_time;
};

struct ShopType {
  int64_t id = 0;
  std::string name;
  std::string icon;
  int64_t sort = 0;
};

// A write to some columns of tb_shop: column name → value. Column names come from the caller's
// whitelist, never from user input.
using ShopFields = std::vector<std::pair<std::string, Param>>;

// Redis's geo index (GEOADD) accepts longitudes -180..180 and latitudes up to ±85.05112878
// (the Web Mercator square); tb_shop's x and y are UNSIGNED, so only the eastern and northern
// part of that is storable in both.
constexpr double kMaxLongitude = 180;
constexpr double kMaxLatitude = 85.05112878;
bool geo_storable(double x, double y);

// A tb_shop column, the Shop member it fills and its name in the API's JSON. The shop's fields
// are listed once (shop_columns()): the SELECT list, row decoding, the JSON the API writes and
// the checks on a write all come from that one table.
struct ShopColumn {
  enum Kind { kInteger, kNumber, kText };  // the order of `member`'s alternatives

  const char* column;
  const char* json;
  std::variant<int64_t Shop::*, double Shop::*, std::string Shop::*> member;
  // Whether a create or update may set it, and the bounds every store accepts then (for text,
  // the longest length in bytes; for numbers, the range).
  bool writable = false;
  double min = 0;
  double max = 0;
  const char* select = nullptr;  // the SELECT expression when it is not the bare column

  Kind kind() const { return static_cast<Kind>(member.index()); }
};
// Every column, in tb_shop's order (the first is the id).
std::span<const ShopColumn> shop_columns();

// Checks a shop write against what every store accepts (column lengths and ranges, the geo
// index's coordinates) before anything is written, so a value one store refuses never leaves a
// committed row behind. Returns the message for a 400 naming the first bad field (by its JSON
// name), or nullopt when every field is acceptable.
std::optional<std::string> check_shop_fields(const ShopFields& fields);

// Borrows the pool, which must outlive it. Safe to share between threads.
class ShopRepository {
 public:
  explicit ShopRepository(Pool& pool) : pool_(pool) {}

  // nullopt when no shop has that id.
  asio::awaitable<Result<std::optional<Shop>>> find(int64_t id);
  asio::awaitable<Result<std::vector<ShopType>>> types();
  // Returns the new id. Fields check_shop_fields() refuses: kInvalidArgument, nothing written.
  asio::awaitable<Result<int64_t>> insert(ShopFields fields);
  // Returns false when no shop has that id. Refused fields as for insert().
  asio::awaitable<Result<bool>> update(int64_t id, ShopFields fields);
  // Deletes the row; false when there was none. Only undoes an insert whose indexing failed.
  asio::awaitable<Result<bool>> remove(int64_t id);
  // A page of shops of one type, by id (the original's query without coordinates). Offsets past
  // kMaxOffset (sql_list.h): kInvalidArgument.
  asio::awaitable<Result<std::vector<Shop>>> page_by_type(int64_t type_id, int64_t offset,
                                                          int64_t limit);
  // A page of shops whose name contains `part` (LIKE wildcards in it are matched literally).
  // Offsets as for page_by_type.
  asio::awaitable<Result<std::vector<Shop>>> page_by_name(std::string part, int64_t offset,
                                                          int64_t limit);
  struct Location {
    int64_t id;
    int64_t type_id;
    double x;
    double y;
  };
  asio::awaitable<Result<std::vector<Location>>> all_locations();
  // Every shop id, as decimal text (for the Bloom filter).
  asio::awaitable<Result<std::vector<std::string>>> all_ids();

 private:
  Pool& pool_;
};

// Row decoding, exposed for tests.
Result<Shop> shop_from_row(const Rows& rows, size_t i);

}  // namespace surge::db
