// Shop writes across MariaDB, the geo index and the cache.
#include "cache/shop_places.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/parse.h"
#include "redis/commands.h"

namespace surge::cache {

namespace {
// Result<bool> cannot be made from an error_code implicitly (bool converts from one).
Result<bool> failed(error_code ec) { return Result<bool>(boost::system::in_place_error, ec); }
}  // namespace

std::string shop_geo_key(int64_t type_id) { return "shop:geo:" + std::to_string(type_id); }

asio::awaitable<Result<bool>> update_shop(db::ShopRepository& shops, redis::Connection& redis,
                                          ReadThrough& cache, size_t w, int64_t id,
                                          db::ShopFields fields) {
  // The type before the update: the member must leave that index if the type changes.
  auto before = co_await shops.find(id);
  if (!before) co_return failed(before.error());
  if (!*before) co_return false;
  auto found = co_await shops.update(id, std::move(fields));
  if (!found) co_return failed(found.error());
  if (!*found) co_return false;
  // The row as committed (the update may have set only some of x, y and type_id).
  auto after = co_await shops.find(id);
  if (!after) co_return failed(after.error());
  if (*after) {
    const db::Shop& now = **after;
    std::vector<redis::GeoMember> place{{std::to_string(id), now.x, now.y}};
    auto placed = co_await redis::geoadd(redis, shop_geo_key(now.type_id), std::move(place));
    if (!placed) co_return failed(placed.error());
    if ((*before)->type_id != now.type_id) {
      auto left = co_await redis::zrem(redis, shop_geo_key((*before)->type_id), std::to_string(id));
      if (!left) co_return failed(left.error());
    }
  }
  auto invalidated = co_await cache.invalidate(w, std::to_string(id));
  if (!invalidated) co_return failed(invalidated.error());
  co_return true;
}

asio::awaitable<Result<size_t>> remove_stale_places(
    redis::Connection& redis, const std::vector<db::ShopRepository::Location>& places,
    std::vector<int64_t> types) {
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
    redis::Command drop;
    drop.begin(2 + stale.size()).arg("ZREM").arg(key);
    for (auto m : stale) drop.arg(m);
    auto done = co_await redis.exec(std::move(drop));
    if (!done) co_return done.error();
    removed += stale.size();
  }
  co_return removed;
}

}  // namespace surge::cache
