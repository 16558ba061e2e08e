// Likes: blog:liked:{blogId}, a sorted set of user ids scored by the time of the like, toggled
// atomically in Redis; tb_blog.liked follows the set's size. The original's key names; the toggle
// script and every command touch one blog's set, so on a cluster each runs on that key's node
// (a reader's likes of several blogs are one request per blog, in one batch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "db/blog_repository.h"
#include "db/user_repository.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

enum class LikeOutcome { kToggled, kNoSuchBlog };

// Stateless; shared by every worker, each passing its own client. Borrows the repositories
// and the clock, which must outlive it.
class Likes {
 public:
  Likes(db::BlogRepository& blogs, db::UserRepository& users, const Clock& clock)
      : blogs_(blogs), users_(users), clock_(clock) {}

  // Adds the user's like, or removes it when present; then makes tb_blog.liked agree.
  asio::awaitable<Result<LikeOutcome>> toggle(redis::Client& c, int64_t blog, int64_t user);
  // The `n` earliest likers, as users (those without a row are left out).
  asio::awaitable<Result<std::vector<db::User>>> first_likers(redis::Client& c, int64_t blog,
                                                              int64_t n = 5);
  // Whether `user` likes each of `blogs`, in one round trip.
  asio::awaitable<Result<std::vector<bool>>> liked_by(redis::Client& c, std::vector<int64_t> blogs,
                                                      int64_t user);

  static std::string key(int64_t blog);

 private:
  db::BlogRepository& blogs_;
  db::UserRepository& users_;
  const Clock& clock_;
};

}  // namespace surge::social
