// The Redis names the locks and the shop indexes own: every instance (and the original's
// clients, for the geo index) reads and writes the same keys, so they are part of the wire
// format. The operations on them are tested against the fixture Redis.
#include <gtest/gtest.h>

#include "cache/reentrant_lock.h"
#include "cache/shop_places.h"
#include "redis/slot.h"

namespace surge::cache {
namespace {

TEST(ReentrantLockKeys, NameTheLockInsideAHashTag) {
  EXPECT_EQ(LockService::key("repair"), "lock:{repair}");
  EXPECT_EQ(LockService::key("voucher-priming"), "lock:{voucher-priming}");
  EXPECT_NE(LockService::key("a"), LockService::key("b"));
  EXPECT_STREQ(LockService::kReleasedChannel, "lock:released");
}

// The acquire script touches the hold-count hash and its fence counter (lock:{name}:fence) in one
// call, which Redis Cluster runs only when both keys hash to one slot.
TEST(ReentrantLockKeys, HashAndFenceShareASlot) {
  for (const char* name : {"repair", "voucher-priming", "x", "orders:7"}) {
    std::string k = LockService::key(name);
    EXPECT_EQ(redis::key_slot(k), redis::key_slot(k + ":fence")) << name;
    EXPECT_EQ(redis::key_slot(k), redis::key_slot(name)) << name;
  }
}

TEST(LockOptions, DefaultLeaseIsThirtySeconds) {
  EXPECT_EQ(LockOptions{}.lease, std::chrono::seconds(30));
}

TEST(ShopPlaceKeys, OneIndexPerTypeAllInTheGenerationsSlot) {
  EXPECT_EQ(shop_geo_key(1), "{shop:geo}:1");
  EXPECT_EQ(shop_geo_key(10), "{shop:geo}:10");
  EXPECT_EQ(shop_geo_key(1234567890123), "{shop:geo}:1234567890123");
  EXPECT_STREQ(kShopGeoGeneration, "{shop:geo}:generation");
  // The update script moves a shop between types and bumps the generation: one slot for all.
  EXPECT_EQ(redis::key_slot(shop_geo_key(1)), redis::key_slot(kShopGeoGeneration));
  EXPECT_EQ(redis::key_slot(shop_geo_key(1)), redis::key_slot(shop_geo_key(1234567890123)));
}

}  // namespace
}  // namespace surge::cache
