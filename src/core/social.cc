// Phone format, streaks, scroll cursors, rate-limit windows.
#include "core/social.h"

namespace surge::core {

bool is_valid_phone(std::string_view p) {
  if (p.size() != 11 || p[0] != '1') return false;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
  }
  char a = p[1], b = p[2];
  switch (a) {
    case '3':
    case '8':
      return true;
    case '4':
      return b == '5' || b == '7' || b == '9';
    case '5':
      return b != '4';
    case '6':
      return b == '6';
    case '7':
      return b == '0' || b == '1' || b == '3' || b == '5' || b == '6' || b == '7' || b == '8';
    case '9':
      return b == '8' || b == '9';
    default:
      return false;
  }
}

int trailing_ones(uint64_t value, int bits) {
  int n = 0;
  while (n < bits && (value & 1u)) {
    ++n;
    value >>= 1;
  }
  return n;
}

std::optional<ScrollCursor> next_scroll_cursor(const std::vector<int64_t>& scores, int64_t max,
                                               int64_t offset) {
  if (scores.empty()) return std::nullopt;
  int64_t min_time = scores.back();
  int64_t same = 0;
  for (auto it = scores.rbegin(); it != scores.rend() && *it == min_time; ++it) ++same;
  // Every entry of this page shares the score the request started from: the entries skipped to
  // get here share it too, and the next request must skip them again.
  if (min_time == max) same += offset;
  return ScrollCursor{min_time, same};
}

Window fixed_window(int64_t now_ms, int64_t window_ms) {
  int64_t index = now_ms / window_ms;
  return {index, (index + 1) * window_ms};
}

}  // namespace surge::core
