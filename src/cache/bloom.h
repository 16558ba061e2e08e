// A Bloom filter kept in a Redis bitmap, shared by every instance: "definitely absent" answers
// stop requests for ids that never existed before they reach the database (penetration).
// Bits are only ever set, never cleared, so concurrent builds and inserts cannot lose an item.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/cache_math.h"
#include "redis/connection.h"

namespace surge::cache {

namespace asio = boost::asio;

class BloomFilter {
 public:
  // The shape follows from capacity and target rate, and is part of the key, so instances
  // configured differently never read each other's bits as their own.
  BloomFilter(std::string name, uint64_t capacity, double false_positive_rate);

  const std::string& key() const { return key_; }
  const core::BloomShape& shape() const { return shape_; }
  // Until a build has finished in this process, might_contain() is not consulted by callers.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // ORs every item into the Redis bitmap in three commands (the bitmap is assembled locally).
  asio::awaitable<Result<void>> build(redis::Connection& c, std::vector<std::string> items);
  asio::awaitable<Result<void>> add(redis::Connection& c, std::string item);
  // False means definitely absent; true means maybe present.
  asio::awaitable<Result<bool>> might_contain(redis::Connection& c, std::string item) const;

  struct Stats {
    uint64_t bits_set = 0;
    double fill_ratio = 0;
    double estimated_fpr = 0;  // fill_ratio^k: the chance an absent id passes
  };
  asio::awaitable<Result<Stats>> stats(redis::Connection& c) const;

 private:
  std::string key_;
  core::BloomShape shape_;
  std::atomic<bool> ready_{false};
};

}  // namespace surge::cache
