// A Bloom filter kept in a Redis bitmap, shared by every instance: "definitely absent" answers
// stop requests for ids that never existed before they reach the database (penetration).
// Bits are only ever set, never cleared, so concurrent builds and inserts cannot lose an item.
//
// Each instance also holds a copy of the bitmap in memory, so an absent id costs no Redis
// command either. The copy is kept in step by a channel: add() sets the bits in Redis, then
// publishes the item, and every instance's feed sets the same bits locally. The copy is used
// only while the feed is up and a full read of the Redis bitmap has completed since it came up
// (messages missed while it was down are in that read); otherwise might_contain() asks Redis.
// An id added on another instance is seen here once its message arrives (the same window as a
// near-cache invalidation); until then a read of it answers absent without storing anything.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/cache_math.h"
#include "redis/client.h"

namespace surge::cache {

namespace asio = boost::asio;

// Shared by every worker and the feed: the Redis calls run on the caller's connection, the
// in-memory copy is atomics.
class BloomFilter {
 public:
  // The shape follows from capacity and target rate, and is part of the key, so instances
  // configured differently never read each other's bits as their own.
  BloomFilter(std::string name, uint64_t capacity, double false_positive_rate);

  const std::string& key() const { return key_; }
  const core::BloomShape& shape() const { return shape_; }
  // The channel add() publishes on; the feed connection subscribes to it.
  const std::string& channel() const { return channel_; }
  // Until a build has finished in this process, might_contain() is not consulted by callers.
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Whether the in-memory copy answers (see above).
  bool local_ready() const { return local_ready_.load(std::memory_order_acquire); }

  // ORs every item into the Redis bitmap in three commands (the bitmap is assembled locally),
  // and into the in-memory copy.
  asio::awaitable<Result<void>> build(redis::Client& c, std::vector<std::string> items);
  // Sets the item's bits in Redis and here, and tells every instance (one round trip).
  asio::awaitable<Result<void>> add(redis::Client& c, std::string item);
  // False means definitely absent; true means maybe present. From memory when local_ready(),
  // else one Redis command.
  asio::awaitable<Result<bool>> might_contain(redis::Client& c, std::string item) const;
  // The in-memory answer alone: nullopt when the copy is not ready.
  std::optional<bool> might_contain_here(const std::string& item) const;

  // The feed connection's messages and state. on_feed_state(true) must be followed by sync()
  // (the caller spawns it on the feed's worker): only a read that began after the feed came up
  // covers what its messages missed.
  void on_message(const std::string& channel, const std::string& item);
  void on_feed_state(bool up);
  // Reads the whole Redis bitmap into the copy; the copy answers once a sync that began while
  // the feed was up (and stayed up) completes.
  asio::awaitable<Result<void>> sync(redis::Client& c);

  struct Stats {
    uint64_t bits_set = 0;
    double fill_ratio = 0;
    double estimated_fpr = 0;  // fill_ratio^k: the chance an absent id passes
  };
  asio::awaitable<Result<Stats>> stats(redis::Client& c) const;

 private:
  void set_here(const std::string& item);
  void or_here(std::string_view redis_bitmap);

  std::string key_;
  std::string channel_;
  core::BloomShape shape_;
  std::atomic<bool> ready_{false};
  // Bytes in Redis's bit order (bit p is byte p / 8, most significant bit first), set by any
  // worker or the feed; only ever ORed.
  std::unique_ptr<std::atomic<uint8_t>[]> here_;
  size_t here_bytes_ = 0;
  std::atomic<bool> local_ready_{false};
  std::atomic<bool> feed_up_{false};
  std::atomic<uint64_t> feed_epoch_{0};  // bumped on every feed state change
};

}  // namespace surge::cache
