// The clock seam: the hand-moved clock moves only when told, by exactly what it is told.
#include "common/clock.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "common/random.h"

namespace surge {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.now_ms(), 1000);
  EXPECT_EQ(clock.now_ms(), 1000);
  clock.advance(std::chrono::seconds(61));
  EXPECT_EQ(clock.now_ms(), 62000);
  clock.advance(std::chrono::milliseconds(-2000));
  EXPECT_EQ(clock.now_ms(), 60000);
  clock.set(5);
  EXPECT_EQ(clock.now_ms(), 5);
}

TEST(SystemClock, IsTheWallClockInMilliseconds) {
  // After 2020-01-01 and before 2200-01-01: milliseconds, not seconds or microseconds.
  EXPECT_GT(Clock::system().now_ms(), 1577836800000);
  EXPECT_LT(Clock::system().now_ms(), 7258118400000);
}

TEST(Random, TokensAreThirtyTwoHexAndDistinct) {
  std::string a = random_token(), b = random_token();
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(Random, StringsUseOnlyTheAlphabet) {
  std::string s = random_string(1000, "xyz");
  ASSERT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.find_first_not_of("xyz"), std::string::npos);
  // Each of three letters in 1000 draws: far from zero (p of any missing is ~1e-176).
  for (char ch : std::string("xyz")) EXPECT_GT(std::count(s.begin(), s.end(), ch), 200);
}

}  // namespace
}  // namespace surge
