// Shop writes across MariaDB, the geo index and the cache.
#include "cache/shop_places.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/parse.h"
#include "redis/commands.h"
#include "redis/pipeline.h"
#include "redis/script.h"

namespace surge::cache {

namespace {
// Result<bool> cannot be made from an error_code implicitly (bool converts from one).
Result<bool> failed(error_code ec) { return Result<bool>(boost::system::in_place_error, ec); }

// The row is committed but an index or a cache still has the old shop: the same update again
// puts them right (it is idempotent), so the caller hears "unavailable, retry", never a 500.
Result<bool> after_commit(int64_t id, error_code ec) {
  spdlog::warn("shop {}: updated, but its index or cache entry was not ({}); a retry repairs it",
               id, ec.message());
  return failed(make_error_code(Errc::kUnavailable));
}

// KEYS: the generation, the shop's index now, then every other type's index. ARGV: lon, lat,
// member.
const redis::Script kMove(R"lua(
redis.call('GEOADD', KEYS[2], ARGV[1], ARGV[2], ARGV[3])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[3]) end
return redis.call('INCR', KEYS[1])
)lua");

// KEYS: the generation, an index. ARGV: the generation expected, 'add' or 'rem', then
// lon, lat, member triples (add) or members (rem). 1 when written, 0 when the generation moved.
const redis::Script kIfGeneration(R"lua(
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if ARGV[2] == 'add' then
  redis.call('GEOADD', KEYS[2], unpack(ARGV, 3))
else
  redis.call('ZREM', KEYS[2], unpack(ARGV, 3))
end
return 1
)lua");

asio::awaitable<Result<void>> write_if(redis::Client& redis, const std::string& generation,
                                       std::string key, std::vector<std::string> args) {
  std::vector<std::string> keys{kShopGeoGeneration, std::move(key)};
  args.insert(args.begin(), generation);
  auto r = redis::to_integer(co_await redis.run(kIfGeneration, std::move(keys), std::move(args)));
  if (!r) co_return r.error();
  if (*r == 0) co_return make_error_code(Errc::kConflict);
  co_return Result<void>();
}
}  // namespace

std::string shop_geo_key(int64_t type_id) { return "{shop:geo}:" + std::to_string(type_id); }

asio::awaitable<Result<bool>> update_shop(db::ShopRepository& shops, redis::Client& redis,
                                          ReadThrough& cache, size_t w, int64_t id,
                                          db::ShopFields fields) {
  // The member leaves every other type's index, not only the one the row had before: the
  // row's old type is gone once the update is committed, so a retry after a failed move
  // could not find the index it must still leave. The listed types (tb_shop_type) and the
  // type the row has before this update (which the table may not list) are those indexes.
  auto before = co_await shops.find(id);
  if (!before) co_return failed(before.error());
  if (!*before) co_return false;
  auto types = co_await shops.types();
  if (!types) co_return failed(types.error());
  auto found = co_await shops.update(id, std::move(fields));
  if (!found) co_return failed(found.error());
  if (!*found) co_return false;
  // The row as committed (the update may have set only some of x, y and type_id).
  auto after = co_await shops.find(id);
  if (!after) co_return after_commit(id, after.error());
  if (*after) {
    const db::Shop& now = **after;
    std::set<int64_t> others{(*before)->type_id};
    for (const auto& t : *types) others.insert(t.id);
    others.erase(now.type_id);
    std::vector<std::string> keys{kShopGeoGeneration, shop_geo_key(now.type_id)};
    for (int64_t t : others) keys.push_back(shop_geo_key(t));
    std::vector<std::string> args{fmt::format("{}", now.x), fmt::format("{}", now.y),
                                  std::to_string(id)};
    auto moved = redis::to_integer(co_await redis.run(kMove, std::move(keys), std::move(args)));
    if (!moved) co_return after_commit(id, moved.error());
  }
  auto invalidated = co_await cache.invalidate(w, std::to_string(id));
  if (!invalidated) co_return after_commit(id, invalidated.error());
  co_return true;
}

asio::awaitable<Result<std::string>> geo_generation(redis::Client& redis) {
  auto g = co_await redis::get(redis, kShopGeoGeneration);
  if (!g) co_return g.error();
  co_return g->value_or(std::string());
}

asio::awaitable<Result<size_t>> drop_untagged_geo_indexes(redis::Client& redis) {
  auto keys = co_await redis.scan("shop:geo:*");
  if (!keys) co_return keys.error();
  size_t n = keys->size();
  auto done = co_await redis::del(redis, std::move(*keys));
  if (!done) co_return done.error();
  co_return n;
}

asio::awaitable<Result<void>> add_places_if(redis::Client& redis, const std::string& generation,
                                            int64_t type_id,
                                            const std::vector<redis::GeoMember>& members) {
  std::vector<std::string> args{"add"};
  args.reserve(1 + 3 * members.size());
  for (const auto& m : members) {
    args.push_back(fmt::format("{}", m.lon));
    args.push_back(fmt::format("{}", m.lat));
    args.push_back(m.member);
  }
  co_return co_await write_if(redis, generation, shop_geo_key(type_id), std::move(args));
}

asio::awaitable<Result<size_t>> remove_stale_places(
    redis::Client& redis, const std::vector<db::ShopRepository::Location>& places,
    std::vector<int64_t> types, const std::string& generation) {
  std::map<int64_t, std::set<int64_t>> members_of;
  int64_t newest = 0;
  for (const auto& p : places) {
    members_of[p.type_id].insert(p.id);
    newest = std::max(newest, p.id);
    types.push_back(p.type_id);
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  size_t removed = 0;
  for (int64_t type : types) {
    std::string key = shop_geo_key(type);
    auto members = co_await redis::zrange(redis, key, 0, -1);
    if (!members) co_return members.error();
    const auto& belong = members_of[type];
    std::vector<std::string_view> stale;
    for (const auto& m : *members) {
      auto id = core::parse_id(m);
      if (!id || (!belong.contains(*id) && *id <= newest)) stale.push_back(m);
    }
    if (stale.empty()) continue;
    std::vector<std::string> args{"rem"};
    for (auto m : stale) args.emplace_back(m);
    auto done = co_await write_if(redis, generation, key, std::move(args));
    if (!done) co_return done.error();
    removed += stale.size();
  }
  co_return removed;
}

}  // namespace surge::cache
