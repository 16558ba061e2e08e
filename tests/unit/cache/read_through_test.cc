// What the read-through cache decides without touching Redis: its key schema (shared with every
// other instance and with `surge cache`), its defaults, which feed messages it acts on and how
// they reach the workers, and the metrics it exports. get() and invalidate() run against the
// fixture Redis in tests/integration.
#include "cache/read_through.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "cache/key_classes.h"
#include "common/clock.h"
#include "core/exposition.h"
#include "redis/slot.h"

namespace surge::cache {
namespace {

Loader never_called() {
  return [](std::string) -> asio::awaitable<Result<Loaded>> {
    ADD_FAILURE() << "the loader ran";
    co_return Loaded();
  };
}

ClassOptions named(std::string name) {
  ClassOptions o;
  o.name = std::move(name);
  return o;
}

// The defaults docs/ARCHITECTURE.md states: TTL ±5% (null marker 2 min), a 100k-entry near
// cache with a 10 s TTL, waiters giving up after 3 s, the mutex strategy; XFetch's beta at the
// paper's neutral 1.
TEST(ClassOptions, DefaultsAreTheDocumentedOnes) {
  ClassOptions o;
  EXPECT_EQ(o.name, "shop");
  EXPECT_EQ(o.strategy, Strategy::kMutex);
  EXPECT_DOUBLE_EQ(o.jitter, 0.05);
  EXPECT_EQ(o.null_ttl, std::chrono::minutes(2));
  EXPECT_EQ(o.near_capacity, 100000u);
  EXPECT_EQ(o.near_ttl, std::chrono::seconds(10));
  EXPECT_EQ(o.wait_timeout, std::chrono::seconds(3));
  EXPECT_DOUBLE_EQ(o.xfetch_beta, 1.0);
  // A null marker lives shorter than an item: an id created later is found soon.
  EXPECT_LT(o.null_ttl, o.ttl);
  // A version must outlive any load (bounded by the rebuild lock and a waiter's patience), or
  // one that expired and came back mid-load could let a stale fill through.
  EXPECT_GT(o.version_ttl, o.lock_ttl + o.wait_timeout);
}

TEST(ReadThroughKeys, FollowTheClassName) {
  ManualClock clock(0);
  ReadThrough shops(named("shop"), never_called(), {}, clock);
  EXPECT_EQ(shops.key("7"), "cache:shop:7");
  EXPECT_EQ(shops.version_key("7"), "cachever:{cache:shop:7}");
  // The fill and invalidation scripts take both keys: on a cluster they must share a slot.
  EXPECT_EQ(redis::key_slot(shops.version_key("7")), redis::key_slot(shops.key("7")));
  EXPECT_NE(redis::key_slot(shops.version_key("7")), redis::key_slot(shops.version_key("8")));
  EXPECT_EQ(shops.filled_channel(), "cache:filled:shop");
  EXPECT_EQ(shops.invalidate_channel(), "cache:invalidate:shop");
  EXPECT_EQ(ReadThrough::kEveryKey, "*");

  ReadThrough types(named("shopType"), never_called(), {}, clock);
  EXPECT_EQ(types.key("list"), "cache:shopType:list");
  EXPECT_EQ(types.version_key("list"), "cachever:{cache:shopType:list}");
  EXPECT_EQ(types.invalidate_channel(), "cache:invalidate:shopType");
}

// `surge cache` counts cache:<name>:* and cachever:{cache:<name>:*}, and flushes by publishing on
// cache:invalidate:<name>: for each class it knows, the running caches must use those names.
TEST(KeyClasses, AreTheShopAndShopTypeCaches) {
  EXPECT_EQ(key_classes(), (std::vector<std::string>{"shop", "shopType"}));
  ManualClock clock(0);
  for (const auto& name : key_classes()) {
    ReadThrough c(named(name), never_called(), {}, clock);
    EXPECT_EQ(c.key("1"), "cache:" + name + ":1");
    EXPECT_EQ(c.version_key("1"), "cachever:{cache:" + name + ":1}");
    EXPECT_EQ(c.invalidate_channel(), "cache:invalidate:" + name);
  }
}

// Two workers on one io_context: poll() runs what on_message()/on_feed_state() handed to the
// workers, one task per worker, and nothing for messages that are not this class's.
class ReadThroughFeed : public ::testing::Test {
 protected:
  ManualClock clock{0};
  asio::io_context ctx;
  ReadThrough cache{named("shop"),
                    never_called(),
                    {{ctx.get_executor(), nullptr}, {ctx.get_executor(), nullptr}},
                    clock};

  size_t run_posted() {
    size_t n = ctx.poll();
    ctx.restart();
    return n;
  }
};

TEST_F(ReadThroughFeed, AnInvalidationReachesEveryWorkerAndIsCounted) {
  cache.on_message("cache:invalidate:shop", "7");
  EXPECT_EQ(run_posted(), 2u);
  EXPECT_EQ(cache.counters().invalidations.load(), 1u);
}

TEST_F(ReadThroughFeed, AFlushOfTheClassReachesEveryWorkerAndIsCounted) {
  cache.on_message("cache:invalidate:shop", std::string(ReadThrough::kEveryKey));
  EXPECT_EQ(run_posted(), 2u);
  EXPECT_EQ(cache.counters().invalidations.load(), 1u);
  EXPECT_EQ(cache.counters().near_flushes.load(), 0u);
}

TEST_F(ReadThroughFeed, AFillWakesEveryWorkerButIsNoInvalidation) {
  cache.on_message("cache:filled:shop", "7");
  EXPECT_EQ(run_posted(), 2u);
  EXPECT_EQ(cache.counters().invalidations.load(), 0u);
}

TEST_F(ReadThroughFeed, OtherClassesAndChannelsAreIgnored) {
  cache.on_message("cache:invalidate:shopType", "7");
  cache.on_message("cache:filled:shopType", "7");
  cache.on_message("cache:invalidate:sho", "7");
  cache.on_message("bloom:shop:m9586:k7:added", "7");
  cache.on_message("lock:released", "lock:{shop}");
  EXPECT_EQ(run_posted(), 0u);
  EXPECT_EQ(cache.counters().invalidations.load(), 0u);
}

// A feed that comes back may have missed invalidations while it was down; the flush happens when
// it drops, so coming up does nothing.
TEST_F(ReadThroughFeed, LosingTheFeedFlushesEveryWorkersNearCache) {
  cache.on_feed_state(true);
  EXPECT_EQ(run_posted(), 0u);
  EXPECT_EQ(cache.counters().near_flushes.load(), 0u);
  cache.on_feed_state(false);
  EXPECT_EQ(run_posted(), 2u);
  EXPECT_EQ(cache.counters().near_flushes.load(), 1u);
  EXPECT_EQ(cache.counters().invalidations.load(), 0u);
}

TEST(ReadThroughMetrics, EveryClassHasEverySampleUnderOneHeaderPerFamily) {
  ManualClock clock(0);
  ReadThrough shops(named("shop"), never_called(), {}, clock);
  ReadThrough types(named("shopType"), never_called(), {}, clock);
  shops.on_message("cache:invalidate:shop", "1");
  shops.on_message("cache:invalidate:shop", "2");
  shops.on_feed_state(false);
  types.on_message("cache:invalidate:shopType", std::string(ReadThrough::kEveryKey));

  std::string out;
  ReadThrough::render_metrics(out, {&shops, &types});
  std::map<std::string, double> values;  // "name class result" -> value
  for (const auto& s : core::parse_exposition(out)) {
    std::string id = s.name;
    for (const auto& [label, value] : s.labels) id += " " + label + "=" + value;
    EXPECT_TRUE(values.emplace(id, s.value).second) << "twice: " << id;
  }
  EXPECT_EQ(values.at("surge_cache_invalidations_total class=shop"), 2);
  EXPECT_EQ(values.at("surge_cache_invalidations_total class=shopType"), 1);
  EXPECT_EQ(values.at("surge_cache_near_flushes_total class=shop"), 1);
  EXPECT_EQ(values.at("surge_cache_near_flushes_total class=shopType"), 0);
  for (const char* cls : {"shop", "shopType"}) {
    for (const char* result :
         {"near_hit", "redis_hit", "null_hit", "miss", "bloom_reject", "stale"}) {
      EXPECT_EQ(
          values.at(fmt::format("surge_cache_requests_total class={} result={}", cls, result)), 0);
    }
    for (const char* total : {"db_loads", "lock_waits", "wait_timeouts", "rebuilds",
                              "fills_refused", "refreshes_skipped", "store_failures"}) {
      EXPECT_EQ(values.at(fmt::format("surge_cache_{}_total class={}", total, cls)), 0);
    }
    EXPECT_EQ(values.at(fmt::format("surge_cache_refreshes_running class={}", cls)), 0);
  }
  // 6 results and 9 totals per class, and the running gauge.
  EXPECT_EQ(values.size(), 2u * (6 + 9 + 1));
  for (const char* family : {"surge_cache_requests_total", "surge_cache_invalidations_total",
                             "surge_cache_refreshes_running"}) {
    std::string type_line = fmt::format("# TYPE {} ", family);
    size_t n = 0;
    for (size_t at = out.find(type_line); at != std::string::npos;
         at = out.find(type_line, at + 1)) {
      ++n;
    }
    EXPECT_EQ(n, 1u) << family;
  }
}

}  // namespace
}  // namespace surge::cache
