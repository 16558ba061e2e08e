// Shop writes and the indexes beside the table: a created shop becomes a row, a member of the
// Bloom filter of known ids, a point in its type's geo index ({shop:geo}:<typeId>), and is
// invalidated in every instance's cache; nearby search reads the geo index and the shop cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cache/bloom.h"
#include "cache/read_through.h"
#include "common/error.h"
#include "db/shop_repository.h"
#include "redis/connection.h"

namespace surge::shop {

namespace asio = boost::asio;

// A new shop: its validated columns, and the type and coordinates it is indexed under (also
// among the columns).
struct NewShop {
  db::ShopFields fields;
  int64_t type_id = 0;
  double x = 0;
  double y = 0;
};

// One shop near a point: its cached JSON object and its distance in metres.
struct NearbyShop {
  std::string json;
  double distance_m = 0;
};

// Stateless; shared by every worker, each passing its own index and connection (the cache is
// per worker). Borrows the repository, cache and filter, which must outlive it.
class Catalog {
 public:
  Catalog(db::ShopRepository& shops, cache::ReadThrough& cache, cache::BloomFilter& bloom)
      : shops_(shops), cache_(cache), bloom_(bloom) {}

  // Inserts the row (NOT NULL columns the caller left out get the original's defaults), adds
  // the id to the filter and the geo index, and invalidates the id everywhere; the new id.
  // When a Redis step fails the row is deleted again and the answer is kUnavailable: nothing
  // is created, so the caller may simply retry.
  asio::awaitable<Result<int64_t>> create(size_t worker, redis::Client& c, NewShop shop);
  // Updates the row, moves the shop in the geo indexes (a new place or type), and invalidates
  // the id everywhere before returning; false: no such shop.
  asio::awaitable<Result<bool>> update(size_t worker, redis::Client& c, int64_t id,
                                       db::ShopFields fields);
  // Shops of `type_id` within `radius_m` of (x, y), nearest first, entries [from, from + count).
  asio::awaitable<Result<std::vector<NearbyShop>>> nearby(size_t worker, redis::Client& c,
                                                          int64_t type_id, double x, double y,
                                                          double radius_m, int64_t from,
                                                          int64_t count);
  // Loads every shop's location into the geo indexes (at start) and removes members that no
  // longer belong (moved to another type, deleted); the number of shops indexed.
  // A row whose coordinates the index refuses is skipped and logged, never the whole load.
  asio::awaitable<Result<size_t>> build_geo_index(redis::Client& c);

 private:
  // The Redis half of create(): filter, geo index, invalidation.
  asio::awaitable<Result<void>> index_created(size_t worker, redis::Client& c, int64_t id,
                                              const NewShop& shop);
  // One attempt; kConflict when an update moved the indexes' generation meanwhile.
  asio::awaitable<Result<size_t>> load_geo_index(redis::Client& c);

  db::ShopRepository& shops_;
  cache::ReadThrough& cache_;
  cache::BloomFilter& bloom_;
};

}  // namespace surge::shop
