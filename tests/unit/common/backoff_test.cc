// The shared retry policy: doubling from the first wait, held at the cap, restarted by reset().
#include "common/backoff.h"

#include <gtest/gtest.h>

namespace surge {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapAndRestartsAfterASuccess) {
  Backoff b(milliseconds(100), milliseconds(700));
  EXPECT_EQ(b.next(), milliseconds(100));
  EXPECT_EQ(b.next(), milliseconds(200));
  EXPECT_EQ(b.next(), milliseconds(400));
  EXPECT_EQ(b.next(), milliseconds(700));  // 800 capped
  EXPECT_EQ(b.next(), milliseconds(700));
  b.reset();
  EXPECT_EQ(b.next(), milliseconds(100));
}

}  // namespace
}  // namespace surge
