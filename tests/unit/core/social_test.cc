// Phone format, check-in streak bits, feed scroll cursors and rate-limit windows.
#include "core/social.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Phone, AcceptsTheOriginalPrefixes) {
  for (const char* p : {"13800138000", "18912345678", "14512345678", "14712345678", "14912345678",
                        "15012345678", "15312345678", "15512345678", "15912345678", "16612345678",
                        "17012345678", "17812345678", "19812345678", "19912345678"}) {
    EXPECT_TRUE(is_valid_phone(p)) << p;
  }
}

TEST(Phone, RejectsOtherPrefixesLengthsAndTheCommaTheOriginalLetThrough) {
  for (const char* p : {"", "1380013800", "138001380000", "23800138000", "12012345678",
                        "14612345678", "15412345678", "16512345678", "17212345678", "19712345678",
                        "1380013800a", "15,12345678", " 13800138000", "+8613800138"}) {
    EXPECT_FALSE(is_valid_phone(p)) << p;
  }
}

TEST(TrailingOnes, CountsFromTheLowestBitWithinTheWidth) {
  EXPECT_EQ(trailing_ones(0, 31), 0);
  EXPECT_EQ(trailing_ones(0b1, 1), 1);
  EXPECT_EQ(trailing_ones(0b1011, 4), 2);
  EXPECT_EQ(trailing_ones(0b0111, 4), 3);
  EXPECT_EQ(trailing_ones(0b1111, 4), 4);
  EXPECT_EQ(trailing_ones(0b1111, 3), 3);  // bits above the width are not days of this month
  EXPECT_EQ(trailing_ones((1u << 31) - 1, 31), 31);
  EXPECT_EQ(trailing_ones(~uint64_t{0}, 64), 64);
}

// A feed of `scores` (descending) walked with the original's protocol: first max = +inf-ish,
// offset 0; then max = min_time, offset = cursor offset. Returns the positions visited.
std::vector<size_t> walk(const std::vector<int64_t>& scores, size_t page) {
  std::vector<size_t> seen;
  int64_t max = INT64_MAX, offset = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    // ZREVRANGEBYSCORE key max 0 LIMIT offset page over a descending list.
    std::vector<size_t> eligible;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] <= max) eligible.push_back(i);
    }
    std::vector<int64_t> got;
    for (size_t k = static_cast<size_t>(offset); k < eligible.size() && got.size() < page; ++k) {
      seen.push_back(eligible[k]);
      got.push_back(scores[eligible[k]]);
    }
    auto next = next_scroll_cursor(got, max, offset);
    if (!next) break;
    max = next->min_time;
    offset = next->offset;
  }
  return seen;
}

TEST(Scroll, CursorOfOnePage) {
  EXPECT_EQ(next_scroll_cursor({}, 100, 0), std::nullopt);
  EXPECT_EQ(next_scroll_cursor({9, 8}, 100, 0), (ScrollCursor{8, 1}));
  EXPECT_EQ(next_scroll_cursor({9, 9}, 100, 0), (ScrollCursor{9, 2}));
  EXPECT_EQ(next_scroll_cursor({8, 7, 7}, 100, 0), (ScrollCursor{7, 2}));
  // The whole page sits on the previous cursor's score: skip what was skipped before as well.
  EXPECT_EQ(next_scroll_cursor({9, 9}, 9, 2), (ScrollCursor{9, 4}));
  // It moved below the previous score: only this page's trailing run counts.
  EXPECT_EQ(next_scroll_cursor({9, 8}, 9, 2), (ScrollCursor{8, 1}));
}

TEST(Scroll, EveryEntryExactlyOnceWhateverTheTies) {
  std::vector<std::vector<int64_t>> feeds = {
      {10, 9, 8, 7, 6},
      {5, 5, 5, 5, 5, 5, 5},
      {9, 7, 7, 7, 7, 7, 3, 3, 1},
      {8, 8, 8, 6, 6, 6, 6, 6, 6, 2},
      {},
  };
  for (const auto& feed : feeds) {
    for (size_t page : {1u, 2u, 3u, 5u}) {
      auto seen = walk(feed, page);
      std::vector<size_t> expected(feed.size());
      for (size_t i = 0; i < expected.size(); ++i) expected[i] = i;
      EXPECT_EQ(seen, expected) << "page " << page << " feed size " << feed.size();
    }
  }
}

TEST(Window, AlignedToTheEpoch) {
  EXPECT_EQ(fixed_window(0, 60000).index, 0);
  EXPECT_EQ(fixed_window(0, 60000).ends_at_ms, 60000);
  EXPECT_EQ(fixed_window(59999, 60000).index, 0);
  EXPECT_EQ(fixed_window(60000, 60000).index, 1);
  EXPECT_EQ(fixed_window(60000, 60000).ends_at_ms, 120000);
  EXPECT_EQ(fixed_window(1700000012345, 3600000).ends_at_ms, 1700002800000);
}

}  // namespace
}  // namespace surge::core
