// The pure parts of the social engines: which tokens are looked up, and the key schema each
// engine owns (the wire format other instances and the original's clients share).
#include "social/sessions.h"

#include <gtest/gtest.h>

#include "redis/slot.h"
#include "social/check_ins.h"
#include "social/feed.h"
#include "social/follows.h"
#include "social/likes.h"
#include "social/visitors.h"

namespace surge::social {
namespace {

TEST(Sessions, OnlyThirtyTwoHexCharactersAreLookedUp) {
  EXPECT_TRUE(Sessions::plausible_token("0123456789abcdefABCDEF0123456789"));
  EXPECT_FALSE(Sessions::plausible_token(""));
  EXPECT_FALSE(Sessions::plausible_token("0123456789abcdef0123456789abcde"));    // 31
  EXPECT_FALSE(Sessions::plausible_token("0123456789abcdef0123456789abcdef0"));  // 33
  EXPECT_FALSE(Sessions::plausible_token("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(Sessions::plausible_token("login:token:0123456789abcdef01234"));
}

TEST(SocialKeys, KeepTheOriginalSchema) {
  EXPECT_EQ(Sessions::key("ab12"), "login:token:ab12");
  EXPECT_EQ(Likes::key(7), "blog:liked:7");
  EXPECT_EQ(Feed::key(9), "feed:9");
  EXPECT_EQ(Follows::key(3), "follows:3");
  EXPECT_EQ(CheckIns::key(5, core::Date{2024, 3, 1}), "sign:5:202403");
  EXPECT_EQ(CheckIns::key(5, core::Date{2024, 11, 30}), "sign:5:202411");
}

// Surge's own visitor logs (the original had none) share the {uv} slot, so the union of a range
// of days is one PFCOUNT on a cluster too.
TEST(SocialKeys, EveryDaysVisitorLogSharesOneSlot) {
  EXPECT_EQ(uv_key(core::Date{2024, 1, 9}), "{uv}:20240109");
  EXPECT_EQ(redis::key_slot(uv_key(core::Date{2024, 1, 9})),
            redis::key_slot(uv_key(core::Date{2031, 12, 31})));
}

}  // namespace
}  // namespace surge::social
