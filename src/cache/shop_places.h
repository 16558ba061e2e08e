// Shop writes that span MariaDB and Redis: the row, the geo index of its type
// ({shop:geo}:<typeId>) and the read-through cache, kept in step by one call per write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cache/read_through.h"
#include "db/shop_repository.h"
#include "redis/client.h"
#include "redis/commands.h"

namespace surge::cache {

// The geo index of shops of one type. Every type's index and the generation below share the hash
// tag {shop:geo}: an update moves a shop between types' indexes and bumps the generation in one
// script, which on a cluster must stay in one slot. (The original's shop:geo:<typeId> names
// cannot; indexes left under them by earlier versions are dropped at start.)
std::string shop_geo_key(int64_t type_id);

// The indexes' generation: every update bumps it in the same atomic step as its index writes.
// A bulk load reads it before reading MariaDB and writes only while it is unchanged, so a load
// that read a row before an update can never put the shop back at its old place (or remove it
// from its new type) after the update wrote it; such a load starts again instead.
inline constexpr const char* kShopGeoGeneration = "{shop:geo}:generation";
asio::awaitable<Result<std::string>> geo_generation(redis::Client& redis);
// Unlinks the indexes earlier versions kept under shop:geo:<typeId>; how many there were.
asio::awaitable<Result<size_t>> drop_untagged_geo_indexes(redis::Client& redis);
// GEOADD of `members` into the type's index if the generation is still `generation`;
// kConflict when it moved.
asio::awaitable<Result<void>> add_places_if(redis::Client& redis, const std::string& generation,
                                            int64_t type_id,
                                            const std::vector<redis::GeoMember>& members);

// Updates some columns of a shop, then puts it at its current place in its current type's index
// (removing it from its former type's index), then invalidates its cache entry everywhere, so a
// read that starts after this returns sees the new row in every store. Runs on worker `w`'s
// thread with its Redis connection. False when no shop has that id. A failure after the commit
// is kUnavailable: the same update again repairs the index and the cache (the start-up load
// does, if the caller gives up).
asio::awaitable<Result<bool>> update_shop(db::ShopRepository& shops, redis::Client& redis,
                                          ReadThrough& cache, size_t w, int64_t id,
                                          db::ShopFields fields);

// After the start-up load of every location into the indexes: removes members that no longer
// belong (a shop moved to another type, or deleted). `types` are the geo keys' type ids to check
// (every type the database knows); ids above the highest in `places` are kept, since they were
// created after the locations were read. Returns the number of members removed; kConflict when
// the generation moved from `generation` (the locations may be out of date).
asio::awaitable<Result<size_t>> remove_stale_places(
    redis::Client& redis, const std::vector<db::ShopRepository::Location>& places,
    std::vector<int64_t> types, const std::string& generation);

}  // namespace surge::cache
