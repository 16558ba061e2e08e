// Blogs (notes) in MariaDB (tb_blog).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

struct Blog {
  int64_t id = 0;
  int64_t shop_id = 0;
  int64_t user_id = 0;
  std::string title;
  std::string images;  // comma-separated, at most 9
  std::string content;
  int64_t liked = 0;
  std::optional<int64_t> comments;
  std::string create_time;  // ISO-8601 local form, like shops
  std::string update_time;
};

struct NewBlog {
  int64_t shop_id = 0;
  int64_t user_id = 0;
  std::string title;
  std::string images;
  std::string content;
};

// Borrows the pool, which must outlive it. Safe to share between threads.
class BlogRepository {
 public:
  explicit BlogRepository(Pool& pool) : pool_(pool) {}

  asio::awaitable<Result<int64_t>> insert(NewBlog blog);
  asio::awaitable<Result<std::optional<Blog>>> find(int64_t id);
  // The blogs among `ids`, in the order of `ids` (missing ids are skipped).
  asio::awaitable<Result<std::vector<Blog>>> find_many(std::vector<int64_t> ids);
  // One user's blogs by id, a page at a time.
  asio::awaitable<Result<std::vector<Blog>>> page_by_user(int64_t user_id, int64_t offset,
                                                          int64_t limit);
  // Most liked first; equal counts by id so pages never overlap.
  asio::awaitable<Result<std::vector<Blog>>> page_hot(int64_t offset, int64_t limit);
  // Sets the like counter (the size of the Redis set of likers); false if no such blog.
  asio::awaitable<Result<bool>> set_liked(int64_t id, int64_t liked);
  asio::awaitable<Result<bool>> exists(int64_t id);

 private:
  Pool& pool_;
};

}  // namespace surge::db
