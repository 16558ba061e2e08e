// Pure rules behind the user and social features: the original's phone format, check-in streaks
// over a month bitmap, scroll pagination over equal timestamps, and fixed rate-limit windows.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace surge::core {

// The original's RegexPatterns.PHONE_REGEX, ^1([38][0-9]|4[579]|5[0-3,5-9]|6[6]|7[0135678]|9[89])
// \d{8}$, minus its bug: the ',' inside "[0-3,5-9]" was a literal comma, so "15,12345678" passed.
bool is_valid_phone(std::string_view phone);

// How many consecutive 1 bits `value` has from its lowest bit up, looking at the low `bits`
// bits only (bits in 0..64).
int trailing_ones(uint64_t value, int bits);

// The next cursor of the original's feed scroll: `scores` are one page of ZREVRANGEBYSCORE
// key `max` 0 LIMIT `offset` n, in descending order. min_time is the last score; offset counts
// the page's trailing entries that share it, plus the entries already skipped at that score when
// the whole page sits on the previous cursor's score (the case the handout got backwards, which
// made pages of equal timestamps repeat). nullopt for an empty page.
struct ScrollCursor {
  int64_t min_time;
  int64_t offset;
  bool operator==(const ScrollCursor&) const = default;
};
std::optional<ScrollCursor> next_scroll_cursor(const std::vector<int64_t>& scores, int64_t max,
                                               int64_t offset);

// Fixed rate-limit windows aligned to the epoch: the window `now_ms` falls in, and when it ends.
struct Window {
  int64_t index;
  int64_t ends_at_ms;
};
Window fixed_window(int64_t now_ms, int64_t window_ms);

}  // namespace surge::core
