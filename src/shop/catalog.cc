// The shop create path and the geo index.
#include "shop/catalog.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "cache/shop_places.h"
#include "redis/commands.h"

namespace surge::shop {

asio::awaitable<Result<int64_t>> Catalog::create(size_t worker, redis::Client& c, NewShop shop) {
  auto has = [&](std::string_view column) {
    return std::any_of(shop.fields.begin(), shop.fields.end(),
                       [&](auto& f) { return f.first == column; });
  };
  // NOT NULL columns without a default in the original schema.
  for (const char* text : {"images", "address"}) {
    if (!has(text)) shop.fields.emplace_back(text, std::string());
  }
  for (const char* count : {"sold", "comments", "score"}) {
    if (!has(count)) shop.fields.emplace_back(count, int64_t{0});
  }
  auto id = co_await shops_.insert(std::move(shop.fields));
  if (!id) co_return id.error();
  auto indexed = co_await index_created(worker, c, *id, shop);
  if (indexed) co_return *id;
  // The row must not outlive a failed index write: unreachable through the filter, it would
  // also make the caller's retry a second shop. What the indexes already took stays harmless
  // (a filter member or a geo point without a row reads as absent; the next start's geo load
  // drops the point).
  auto removed = co_await shops_.remove(*id);
  if (!removed) {
    spdlog::error(
        "shop {}: indexing failed ({}) and removing the row failed ({}); it stays unindexed "
        "until the next start's loads",
        *id, indexed.error().message(), removed.error().message());
  } else {
    spdlog::warn("shop {}: indexing failed ({}); the row was removed, nothing is created", *id,
                 indexed.error().message());
  }
  co_return make_error_code(Errc::kUnavailable);
}

asio::awaitable<Result<void>> Catalog::index_created(size_t worker, redis::Client& c, int64_t id,
                                                     const NewShop& shop) {
  auto added = co_await bloom_.add(c, std::to_string(id));
  if (!added) co_return added.error();
  std::vector<redis::GeoMember> place{{std::to_string(id), shop.x, shop.y}};
  auto placed = co_await redis::geoadd(c, cache::shop_geo_key(shop.type_id), std::move(place));
  if (!placed) co_return placed.error();
  // An instance whose filter was not ready may have cached this id as absent a moment ago.
  co_return co_await cache_.invalidate(worker, std::to_string(id));
}

asio::awaitable<Result<bool>> Catalog::update(size_t worker, redis::Client& c, int64_t id,
                                              db::ShopFields fields) {
  co_return co_await cache::update_shop(shops_, c, cache_, worker, id, std::move(fields));
}

asio::awaitable<Result<std::vector<NearbyShop>>> Catalog::nearby(size_t worker, redis::Client& c,
                                                                 int64_t type_id, double x,
                                                                 double y, double radius_m,
                                                                 int64_t from, int64_t count) {
  auto hits =
      co_await redis::geosearch(c, cache::shop_geo_key(type_id), x, y, radius_m, from + count);
  if (!hits) co_return hits.error();
  std::vector<NearbyShop> out;
  for (size_t i = static_cast<size_t>(from); i < hits->size(); ++i) {
    auto shop = co_await cache_.get(worker, (*hits)[i].member);
    if (!shop) co_return shop.error();
    if (!*shop) continue;  // deleted since it was indexed
    out.push_back({std::move(**shop), (*hits)[i].distance_m});
  }
  co_return out;
}

asio::awaitable<Result<size_t>> Catalog::build_geo_index(redis::Client& c) {
  if (auto old = co_await cache::drop_untagged_geo_indexes(c); !old) {
    spdlog::warn("geo: dropping indexes under the old shop:geo:<type> names failed ({})",
                 old.error().message());
  } else if (*old > 0) {
    spdlog::info("geo: {} indexes under the old shop:geo:<type> names dropped", *old);
  }
  // An update that lands between reading the rows and writing them moves the generation: the
  // load then starts again from fresh rows. Updates are rare next to a load's few milliseconds,
  // so a few attempts are plenty.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto loaded = co_await load_geo_index(c);
    if (loaded || loaded.error() != Errc::kConflict || attempt == kAttempts) co_return loaded;
    spdlog::info("geo: a shop moved while the index loaded; loading again ({} of {})", attempt + 1,
                 kAttempts);
  }
}

asio::awaitable<Result<size_t>> Catalog::load_geo_index(redis::Client& c) {
  auto generation = co_await cache::geo_generation(c);
  if (!generation) co_return generation.error();
  auto places = co_await shops_.all_locations();
  if (!places) co_return places.error();
  // A row the index refuses would fail its whole GEOADD (and so hundreds of good rows with it):
  // skip it, name it, and load the rest.
  std::map<int64_t, std::vector<const db::ShopRepository::Location*>> by_type;
  size_t skipped = 0;
  for (const auto& p : *places) {
    if (!db::geo_storable(p.x, p.y)) {
      if (++skipped <= 20) {
        spdlog::warn("geo: skipped shop {}: coordinates ({}, {}) are outside the geo index's range",
                     p.id, p.x, p.y);
      }
      continue;
    }
    by_type[p.type_id].push_back(&p);
  }
  if (skipped > 0) spdlog::warn("geo: {} shops skipped for their coordinates", skipped);
  constexpr size_t kPerCommand = 500;
  for (const auto& [type, list] : by_type) {
    for (size_t i = 0; i < list.size(); i += kPerCommand) {
      size_t n = std::min(kPerCommand, list.size() - i);
      std::vector<redis::GeoMember> members;
      for (size_t j = i; j < i + n; ++j) {
        members.push_back({std::to_string(list[j]->id), list[j]->x, list[j]->y});
      }
      auto added = co_await cache::add_places_if(c, *generation, type, members);
      if (!added) co_return added.error();
    }
  }
  // The load only adds: members left from before (moved to another type, deleted) go now.
  std::vector<int64_t> types;
  if (auto known = co_await shops_.types()) {
    for (const auto& t : *known) types.push_back(t.id);
  }
  auto stale = co_await cache::remove_stale_places(c, *places, std::move(types), *generation);
  if (!stale) {
    if (stale.error() == Errc::kConflict) co_return stale.error();
    spdlog::warn("geo: removing stale members failed ({})", stale.error().message());
  } else if (*stale > 0) {
    spdlog::info("geo: {} stale members removed", *stale);
  }
  co_return places->size() - skipped;
}

}  // namespace surge::shop
