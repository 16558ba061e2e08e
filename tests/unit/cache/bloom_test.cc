// The Bloom filter's naming and the rule that its in-memory copy never answers on its own: only
// a build and a sync against Redis make it answer (those are tested against the fixture Redis).
#include "cache/bloom.h"

#include <set>

#include <gtest/gtest.h>

namespace surge::cache {
namespace {

// m = ceil(-n ln p / (ln 2)^2) = ceil(9585.06) and k = round(m / n ln 2) = round(6.64) for
// n = 1000 items at p = 1%.
TEST(BloomFilter, KeyAndChannelNameTheShape) {
  BloomFilter f("shop", 1000, 0.01);
  EXPECT_EQ(f.shape().bits, 9586u);
  EXPECT_EQ(f.shape().hashes, 7u);
  EXPECT_EQ(f.key(), "bloom:shop:m9586:k7");
  EXPECT_EQ(f.channel(), "bloom:shop:m9586:k7:added");
}

// `surge serve`'s filter as docs/ARCHITECTURE.md describes it: 200,000 shops at 0.1% take
// 2.9 Mbit (about 360 KB in memory) and 10 hashes.
TEST(BloomFilter, ServesShapeIsTheDocumentedOne) {
  BloomFilter f("shop", 200000, 0.001);
  EXPECT_EQ(f.shape().bits, 2875518u);  // ceil(200000 ln 1000 / (ln 2)^2)
  EXPECT_EQ(f.shape().hashes, 10u);     // round(14.38 ln 2)
  EXPECT_EQ(f.key(), "bloom:shop:m2875518:k10");
  EXPECT_NEAR((f.shape().bits + 7) / 8 / 1000.0, 360, 1);
}

// Instances that share a configuration must share the bitmap (every instance's build and add
// land in one place); any difference in name, capacity or rate must not.
TEST(BloomFilter, OnlyIdenticallyConfiguredFiltersShareAKey) {
  EXPECT_EQ(BloomFilter("shop", 1000, 0.01).key(), BloomFilter("shop", 1000, 0.01).key());
  const BloomFilter filters[] = {BloomFilter("shop", 1000, 0.01), BloomFilter("shop", 2000, 0.01),
                                 BloomFilter("shop", 1000, 0.001),
                                 BloomFilter("voucher", 1000, 0.01)};
  std::set<std::string> keys, channels;
  for (const auto& f : filters) {
    keys.insert(f.key());
    channels.insert(f.channel());
  }
  EXPECT_EQ(keys.size(), std::size(filters));
  EXPECT_EQ(channels.size(), std::size(filters));
  for (const auto& f : filters) EXPECT_FALSE(keys.contains(f.channel())) << f.channel();
}

TEST(BloomFilter, FreshFilterAnswersNothingFromMemory) {
  BloomFilter f("shop", 1000, 0.01);
  EXPECT_FALSE(f.ready());
  EXPECT_FALSE(f.local_ready());
  EXPECT_EQ(f.might_contain_here("1"), std::nullopt);
  EXPECT_EQ(f.might_contain_here(""), std::nullopt);
}

// The feed coming up is not enough: messages missed before it came up are only in a sync's read
// of the Redis bitmap. Nor does a message make the copy answer, even for the item it names.
TEST(BloomFilter, FeedStateAndMessagesAloneNeverMakeTheCopyAnswer) {
  BloomFilter f("shop", 1000, 0.01);
  f.on_feed_state(true);
  EXPECT_FALSE(f.local_ready());
  f.on_message(f.channel(), "42");
  f.on_message("bloom:other:m9586:k7:added", "43");
  EXPECT_EQ(f.might_contain_here("42"), std::nullopt);
  EXPECT_EQ(f.might_contain_here("43"), std::nullopt);
  EXPECT_EQ(f.might_contain_here("44"), std::nullopt);
  f.on_feed_state(false);
  f.on_feed_state(true);
  EXPECT_FALSE(f.local_ready());
  EXPECT_FALSE(f.ready());
  EXPECT_EQ(f.might_contain_here("42"), std::nullopt);
}

}  // namespace
}  // namespace surge::cache
