#include "core/token_bucket.h"

#include <gtest/gtest.h>

namespace surge::core {
namespace {

int taken(TokenBuckets& b, const std::string& key, int64_t now_ms, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += b.take(key, now_ms) ? 1 : 0;
  return n;
}

TEST(TokenBuckets, BurstThenRate) {
  TokenBuckets b(10, 5, 100);  // 10/s, burst 5
  EXPECT_EQ(taken(b, "u:1", 1'000, 20), 5) << "a full bucket allows the burst at once";
  EXPECT_EQ(taken(b, "u:1", 1'099, 5), 0) << "0.99 tokens after 99 ms";
  EXPECT_EQ(taken(b, "u:1", 1'100, 5), 1);
  EXPECT_EQ(taken(b, "u:1", 1'600, 10), 5) << "5 tokens after 500 ms";
  EXPECT_EQ(taken(b, "u:1", 60'000, 10), 5) << "never more than the burst";
}

TEST(TokenBuckets, KeysAreIndependent) {
  TokenBuckets b(1, 2, 100);
  EXPECT_EQ(taken(b, "u:1", 0, 10), 2);
  EXPECT_EQ(taken(b, "u:2", 0, 10), 2) << "one flooding key does not drain another";
  EXPECT_EQ(taken(b, "ip:10.0.0.1", 0, 10), 2);
}

TEST(TokenBuckets, BoundedNumberOfKeys) {
  TokenBuckets b(1, 1, 3);
  for (int i = 0; i < 1000; ++i) b.take("u:" + std::to_string(i), 0);
  EXPECT_EQ(b.size(), 3u);
  // A forgotten key starts again with a full bucket: the bound costs strictness, never memory.
  EXPECT_TRUE(b.take("u:0", 0));
}

}  // namespace
}  // namespace surge::core
