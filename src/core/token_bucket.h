// Per-worker token buckets keyed by user or address: a rate limit that costs no I/O, for hot
// paths (purchases) where a Redis counter would double the work per request. Not thread-safe by
// design: each worker owns one, so the limit a key gets is per worker (documented at the flag).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/lru_cache.h"

namespace surge::core {

class TokenBuckets {
 public:
  // `per_second` tokens flow into each bucket, which holds at most `burst`; at most `keys`
  // buckets are kept (the least recently used is forgotten, which only ever lets a key start
  // again with a full bucket).
  TokenBuckets(double per_second, double burst, size_t keys)
      : rate_per_ms_(std::max(per_second, 1e-6) / 1000.0),
        burst_(std::max(burst, 1.0)),
        buckets_(keys) {}

  // Takes one token from `key`'s bucket at `now_ms`; false when it is empty.
  bool take(std::string_view key, int64_t now_ms) {
    auto now = TimePoint(std::chrono::milliseconds(now_ms));
    Bucket b{burst_, now_ms};
    if (const Bucket* found = buckets_.find(key, now)) b = *found;
    double tokens = std::min(burst_, b.tokens + (now_ms - b.at_ms) * rate_per_ms_);
    bool allowed = tokens >= 1.0;
    if (allowed) tokens -= 1.0;
    // Once the bucket would be full again it equals a forgotten one, so it may expire then.
    auto refill_ms = static_cast<int64_t>((burst_ - tokens) / rate_per_ms_) + 1;
    buckets_.put(key, Bucket{tokens, now_ms}, now + std::chrono::milliseconds(refill_ms));
    return allowed;
  }

  size_t size() const { return buckets_.size(); }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Bucket {
    double tokens;
    int64_t at_ms;
  };
  double rate_per_ms_;
  double burst_;
  LruCache<Bucket> buckets_;
};

}  // namespace surge::core
