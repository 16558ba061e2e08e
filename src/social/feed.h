// The followers' feed (push model): a new blog is added to every follower's feed:{userId}, a
// sorted set of blog ids scored by publication time, trimmed to its newest entries. The original's
// key names; every command names one follower's feed, so on a cluster a fan-out is one request
// per feed, each routed to its follower's master, sent together in bounded batches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "core/social.h"
#include "db/follow_repository.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

struct FeedOptions {
  int64_t keep = 1000;    // newest entries kept per feed
  int64_t page_size = 2;  // entries per page
};

// One page of a feed: blog ids newest first, and where the next page starts.
struct FeedPage {
  std::vector<int64_t> blog_ids;
  core::ScrollCursor next;
};

// Stateless; shared by every worker. Borrows the repository and clock, which must outlive it.
class Feed {
 public:
  Feed(FeedOptions options, db::FollowRepository& follows, const Clock& clock)
      : options_(options), follows_(follows), clock_(clock) {}

  // Adds `blog` to the feed of every follower of `author`. Per-feed failures are logged, not
  // fatal (the blog exists either way); reading the followers or losing Redis is an error.
  asio::awaitable<Result<void>> publish(redis::Client& c, int64_t author, int64_t blog);
  // The page of `user`'s feed below score `last` (skipping `offset` entries at that score);
  // nullopt once the feed is exhausted.
  asio::awaitable<Result<std::optional<FeedPage>>> page(redis::Client& c, int64_t user,
                                                        int64_t last, int64_t offset);

  static std::string key(int64_t user);

 private:
  FeedOptions options_;
  db::FollowRepository& follows_;
  const Clock& clock_;
};

}  // namespace surge::social
