// Blogs as readers see them: notes with their authors and the reader's like, published into
// the followers' feeds. Composes the blog and user tables with Likes and Feed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/blog_repository.h"
#include "db/user_repository.h"
#include "redis/client.h"
#include "social/feed.h"
#include "social/likes.h"

namespace surge::social {

namespace asio = boost::asio;

// One blog as shown: the row, its author (absent when the user row is gone) and, when there is a
// reader, whether the reader likes it.
struct BlogItem {
  db::Blog blog;
  std::optional<db::User> author;
  std::optional<bool> liked;
};

// Stateless; shared by every worker. Borrows everything it is given, which must outlive it.
class Blogs {
 public:
  Blogs(db::BlogRepository& blogs, db::UserRepository& users, Likes& likes, Feed& feed)
      : blogs_(blogs), users_(users), likes_(likes), feed_(feed) {}

  // Inserts the blog and pushes it to the author's followers; the new id, or nullopt when the
  // database refused the row (logged). An unreachable store is an error.
  asio::awaitable<Result<std::optional<int64_t>>> publish(redis::Client& c, db::NewBlog blog);
  // Most liked first.
  asio::awaitable<Result<std::vector<BlogItem>>> hot(redis::Client& c, int64_t offset,
                                                     int64_t limit, std::optional<int64_t> reader);
  asio::awaitable<Result<std::optional<BlogItem>>> find(redis::Client& c, int64_t id,
                                                        std::optional<int64_t> reader);
  // One page of the reader's feed, newest first; nullopt once it is exhausted.
  struct FollowingPage {
    std::vector<BlogItem> items;
    core::ScrollCursor next;
  };
  asio::awaitable<Result<std::optional<FollowingPage>>> following(redis::Client& c, int64_t reader,
                                                                  int64_t last, int64_t offset);

 private:
  asio::awaitable<Result<std::vector<BlogItem>>> decorate(redis::Client& c,
                                                          std::vector<db::Blog> blogs,
                                                          std::optional<int64_t> reader);

  db::BlogRepository& blogs_;
  db::UserRepository& users_;
  Likes& likes_;
  Feed& feed_;
};

}  // namespace surge::social
