// Who follows whom in MariaDB (tb_follow): the source of truth that the Redis follows:{id} sets
// mirror. The unique (user_id, follow_user_id) key makes a repeated follow a no-op.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

// Borrows the pool, which must outlive it. Safe to share between threads.
class FollowRepository {
 public:
  explicit FollowRepository(Pool& pool) : pool_(pool) {}

  // true when the pair was added, false when it already existed.
  asio::awaitable<Result<bool>> follow(int64_t user_id, int64_t followed_id);
  // true when the pair existed.
  asio::awaitable<Result<bool>> unfollow(int64_t user_id, int64_t followed_id);
  asio::awaitable<Result<bool>> is_following(int64_t user_id, int64_t followed_id);
  // Everyone who follows `user_id` (the fan-out targets of a new blog).
  asio::awaitable<Result<std::vector<int64_t>>> followers(int64_t user_id);
  // Every (user_id, follow_user_id) pair, for rebuilding the Redis sets.
  asio::awaitable<Result<std::vector<std::pair<int64_t, int64_t>>>> all();

 private:
  Pool& pool_;
};

}  // namespace surge::db
