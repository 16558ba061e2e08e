// TTL jitter, XFetch and Bloom arithmetic.
#include "core/cache_math.h"

#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(JitteredTtl, StaysWithinTheBandAndSpreads) {
  const Millis ttl(30 * 60 * 1000);
  EXPECT_EQ(jittered_ttl(ttl, 0.05, 0.0), Millis(1710000));  // -5%
  EXPECT_EQ(jittered_ttl(ttl, 0.05, 0.5), ttl);
  EXPECT_EQ(jittered_ttl(ttl, 0.05, 1.0), Millis(1890000));  // +5%
  EXPECT_EQ(jittered_ttl(Millis(1), 0.5, 0.0), Millis(1));   // never zero
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::set<int64_t> distinct;
  for (int i = 0; i < 10000; ++i) {
    auto t = jittered_ttl(ttl, 0.05, unit(rng)).count();
    ASSERT_GE(t, 1710000);
    ASSERT_LE(t, 1890000);
    distinct.insert(t / 1000);
  }
  EXPECT_GT(distinct.size(), 150u);  // 10,000 keys do not expire in the same second
}

TEST(XFetch, RefreshesOnlyNearExpiryAndMoreOftenWhenRebuildsAreSlow) {
  EXPECT_TRUE(xfetch_should_refresh(1000, 1000, 10, 1.0, 0.5));  // already expired
  EXPECT_FALSE(xfetch_should_refresh(0, 100000, 10, 1.0, 0.5));  // far from expiry
  // With delta 100 ms, beta 1 and unit e^-1 the window is exactly 100 ms before expiry.
  double u = std::exp(-1.0);
  EXPECT_TRUE(xfetch_should_refresh(9900, 10000, 100, 1.0, u));
  EXPECT_FALSE(xfetch_should_refresh(9890, 10000, 100, 1.0, u));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  auto rate = [&](int64_t now, int64_t delta) {
    int n = 0;
    for (int i = 0; i < 10000; ++i) n += xfetch_should_refresh(now, 10000, delta, 1.0, unit(rng));
    return n;
  };
  EXPECT_LT(rate(9000, 50), rate(9900, 50));   // closer to expiry, more refreshes
  EXPECT_LT(rate(9500, 50), rate(9500, 500));  // slower rebuild, earlier refreshes
}

TEST(Bloom, ShapeMatchesTheTextbookFormula) {
  auto s = bloom_shape(50114, 0.01);
  EXPECT_EQ(s.bits, 480346u);  // ceil(50114 * ln 100 / ln²2): 9.585 bits per item
  EXPECT_EQ(s.hashes, 7u);
  EXPECT_NEAR(bloom_false_positive_rate(s, 50114), 0.01, 0.001);
  EXPECT_LT(bloom_false_positive_rate(s, 10000), 0.0001);
}

TEST(Bloom, PositionsAreDeterministicInRangeAndMeasuredFprIsNearTarget) {
  auto s = bloom_shape(20000, 0.01);
  std::vector<bool> bits(s.bits);
  for (int i = 1; i <= 20000; ++i) {
    auto pos = bloom_positions(s, std::to_string(i));
    ASSERT_EQ(pos.size(), s.hashes);
    ASSERT_EQ(pos, bloom_positions(s, std::to_string(i)));
    for (auto p : pos) {
      ASSERT_LT(p, s.bits);
      bits[p] = true;
    }
  }
  int false_positives = 0;
  for (int i = 1000000; i < 1100000; ++i) {
    bool all = true;
    for (auto p : bloom_positions(s, std::to_string(i))) all = all && bits[p];
    false_positives += all;
  }
  double fpr = false_positives / 100000.0;
  EXPECT_GT(fpr, 0.005);
  EXPECT_LT(fpr, 0.02);
}

}  // namespace
}  // namespace surge::core
