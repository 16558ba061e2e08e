// The time source engine classes read: the system clock in production, a hand-moved clock in
// tests, so nothing that depends on "now" needs a sleep to be tested.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace surge {

// Wall-clock milliseconds since the Unix epoch. Implementations are safe to read from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;

  // The process-wide system clock.
  static const Clock& system();
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

inline const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

// Moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(std::memory_order_relaxed); }
  void set(int64_t ms) { now_.store(ms, std::memory_order_relaxed); }
  void advance(std::chrono::milliseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace surge
