// The near cache's LRU-with-expiry map.
#include "core/lru_cache.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

TEST(LruCache, EvictsLeastRecentlyUsedAtCapacity) {
  LruCache<int> c(2);
  auto t0 = Clock::time_point{};
  c.put("a", 1, t0 + seconds(60));
  c.put("b", 2, t0 + seconds(60));
  ASSERT_NE(c.find("a", t0), nullptr);  // a is now the most recent
  c.put("c", 3, t0 + seconds(60));      // evicts b
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.find("b", t0), nullptr);
  EXPECT_EQ(*c.find("a", t0), 1);
  EXPECT_EQ(*c.find("c", t0), 3);
}

TEST(LruCache, ExpiredEntriesAreMissesAndGoAway) {
  LruCache<std::string> c(10);
  auto t0 = Clock::time_point{};
  c.put("k", "v", t0 + seconds(5));
  EXPECT_EQ(*c.find("k", t0 + seconds(4)), "v");
  EXPECT_EQ(c.find("k", t0 + seconds(5)), nullptr);
  EXPECT_EQ(c.size(), 0u);
}

TEST(LruCache, OverwriteEraseClearAndZeroCapacity) {
  LruCache<int> c(3);
  auto t0 = Clock::time_point{};
  c.put("k", 1, t0 + seconds(5));
  c.put("k", 2, t0 + seconds(50));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(*c.find("k", t0 + seconds(10)), 2);
  EXPECT_TRUE(c.erase("k"));
  EXPECT_FALSE(c.erase("k"));
  c.put("x", 1, t0 + seconds(5));
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  LruCache<int> off(0);
  off.put("k", 1, t0 + seconds(5));
  EXPECT_EQ(off.find("k", t0), nullptr);
}

TEST(LruCache, KeysAreCopiedAndLookedUpByView) {
  LruCache<int> c(2);
  auto t0 = Clock::time_point{};
  {
    std::string gone = "a-key-longer-than-any-small-string-buffer";
    c.put(gone, 1, t0 + seconds(60));
    gone.assign(gone.size(), 'x');  // the caller's buffer changes, then goes
  }
  std::string_view view = "a-key-longer-than-any-small-string-buffer";
  ASSERT_NE(c.find(view, t0), nullptr);
  EXPECT_EQ(*c.find(view, t0), 1);
  // Eviction and erase free the node after its index entry, whose key views it.
  c.put("b", 2, t0 + seconds(60));
  ASSERT_NE(c.find(view, t0), nullptr);  // the long key is the most recent again
  c.put("c", 3, t0 + seconds(60));       // evicts b
  EXPECT_EQ(c.find("b", t0), nullptr);
  EXPECT_TRUE(c.erase(view));
  EXPECT_EQ(c.find(view, t0), nullptr);
  EXPECT_EQ(c.size(), 1u);
}

}  // namespace
}  // namespace surge::core
