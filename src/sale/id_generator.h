// Globally unique, roughly time-ordered 64-bit ids (the original's RedisIdWorker layout):
//   0 | 31 bits: seconds since the epoch (2022-01-01 UTC by default) | 32 bits: per-day sequence
// The sequence is INCR icr:<prefix>:<yyyy:MM:dd> in Redis, optionally taken in blocks (INCRBY n)
// and handed out locally, which turns n round trips into one. A block never outlives its UTC
// day: the next day's counter starts again at 1, so a leftover block would collide.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "redis/client.h"

namespace surge::sale {

namespace asio = boost::asio;

struct IdOptions {
  std::string prefix = "order";
  int64_t epoch_seconds = 1640995200;  // 2022-01-01T00:00:00Z
  int64_t block = 1;                   // sequence numbers taken per Redis round trip
  // A block is used only once this many replicas hold the counter (WAIT), so a failover cannot
  // roll the counter back and hand the same numbers out twice.
  int replicas = 0;
  std::chrono::milliseconds replica_timeout{500};
};

// Owned by one worker (one io_context); the client must outlive it.
class IdGenerator {
 public:
  using Clock = std::function<int64_t()>;  // Unix seconds (tests inject their own)

  IdGenerator(redis::Client& redis, IdOptions options, Clock clock = {});

  // Errors: Redis unavailable (or the block not on a replica), or kConflict when a day's 2^32
  // sequence numbers are used up.
  asio::awaitable<Result<int64_t>> next();

  static int64_t seconds_of(int64_t id) { return id >> 32; }
  static int64_t sequence_of(int64_t id) { return id & 0xffffffffLL; }
  // The Redis key of the counter for the UTC day containing `unix_seconds`.
  std::string counter_key(int64_t unix_seconds) const;

 private:
  redis::Client& redis_;
  IdOptions options_;
  Clock clock_;
  int64_t day_ = -1;  // UTC day number of the current block
  int64_t next_ = 0;  // next sequence number to hand out
  int64_t end_ = 0;   // one past the block's last sequence number
};

}  // namespace surge::sale
