// The one retry policy of Surge's loops that wait for a store to come back (Redis reconnects,
// the order writer, lock waits, start-up reads): each failed attempt waits twice as long as the
// one before, up to a cap, and a success starts again from the first wait. Doubling finds a
// quick recovery fast while a long outage costs few attempts; the cap bounds how late a
// recovered store is noticed.
#pragma once

#include <algorithm>
#include <chrono>

namespace surge {

// A value type, owned by the loop that retries.
class Backoff {
 public:
  using Millis = std::chrono::milliseconds;

  constexpr Backoff(Millis first, Millis cap) : first_(first), cap_(cap), next_(first) {}

  // The wait before the next attempt; the one after it is twice as long, at most the cap.
  constexpr Millis next() {
    Millis now = next_;
    next_ = std::min(next_ * 2, cap_);
    return now;
  }
  // After a success: the next failure waits the first wait again.
  constexpr void reset() { next_ = first_; }

 private:
  Millis first_;
  Millis cap_;
  Millis next_;
};

}  // namespace surge
