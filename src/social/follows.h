// Follows: tb_follow is the truth; follows:{userId}, the set of users one follows, is its Redis
// mirror for set intersections ("users we both follow"), rebuilt from the table at start.
//
// The original's key names, one per user, so two users' sets may sit on different masters of a
// cluster: the intersection reads both sets in one batch and intersects them here instead of
// SINTER (CROSSSLOT there), and every write, including the rebuild's replace script, names a
// single set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/follow_repository.h"
#include "db/user_repository.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

enum class FollowOutcome { kDone, kSelf, kNoSuchUser };

struct MirrorStats {
  size_t pairs = 0;
  size_t users = 0;
  size_t dropped = 0;  // sets of users who follow nobody in the table any more
};

// Stateless; shared by every worker. Borrows the repositories, which must outlive it.
class Follows {
 public:
  Follows(db::FollowRepository& follows, db::UserRepository& users)
      : follows_(follows), users_(users) {}

  // Both directions are idempotent; following oneself or a missing user is refused.
  asio::awaitable<Result<FollowOutcome>> follow(redis::Client& c, int64_t me, int64_t other);
  asio::awaitable<Result<void>> unfollow(redis::Client& c, int64_t me, int64_t other);
  // From the database.
  asio::awaitable<Result<bool>> is_following(int64_t me, int64_t other);
  // The users both `a` and `b` follow, ordered by id.
  asio::awaitable<Result<std::vector<db::User>>> common(redis::Client& c, int64_t a, int64_t b);
  // Makes every follows:{id} equal to tb_follow (at start, so intersections agree with the table
  // after Redis lost its data or kept members the table has lost): each set is replaced, and
  // sets of users without rows are deleted (found by SCAN on every master). A follow or unfollow
  // that lands while it runs can be undone in the mirror by it (the user's next follow/unfollow or
  // the next start repairs that).
  asio::awaitable<Result<MirrorStats>> rebuild_mirror(redis::Client& c);

  static std::string key(int64_t user);

 private:
  static std::string key_prefix();

  db::FollowRepository& follows_;
  db::UserRepository& users_;
};

}  // namespace surge::social
