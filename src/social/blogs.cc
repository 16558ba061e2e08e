// Blog pages: one query for the rows, one for their authors, one pipeline for the reader's likes.
#include "social/blogs.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

namespace surge::social {

asio::awaitable<Result<std::optional<int64_t>>> Blogs::publish(redis::Client& c, db::NewBlog blog) {
  int64_t author = blog.user_id;
  auto id = co_await blogs_.insert(std::move(blog));
  if (!id) {
    if (id.error() == Errc::kUnavailable || id.error() == Errc::kTimeout) co_return id.error();
    spdlog::warn("blog: insert failed: {}", id.error().message());
    co_return std::optional<int64_t>();
  }
  auto pushed = co_await feed_.publish(c, author, *id);
  if (!pushed) co_return pushed.error();
  co_return std::optional<int64_t>(*id);
}

asio::awaitable<Result<std::vector<BlogItem>>> Blogs::hot(redis::Client& c, int64_t offset,
                                                          int64_t limit,
                                                          std::optional<int64_t> reader) {
  auto rows = co_await blogs_.page_hot(offset, limit);
  if (!rows) co_return rows.error();
  co_return co_await decorate(c, std::move(*rows), reader);
}

asio::awaitable<Result<std::optional<BlogItem>>> Blogs::find(redis::Client& c, int64_t id,
                                                             std::optional<int64_t> reader) {
  auto row = co_await blogs_.find(id);
  if (!row) co_return row.error();
  if (!*row) co_return std::optional<BlogItem>();
  std::vector<db::Blog> one{std::move(**row)};
  auto items = co_await decorate(c, std::move(one), reader);
  if (!items) co_return items.error();
  co_return std::optional<BlogItem>(std::move(items->front()));
}

asio::awaitable<Result<std::optional<Blogs::FollowingPage>>> Blogs::following(redis::Client& c,
                                                                              int64_t reader,
                                                                              int64_t last,
                                                                              int64_t offset) {
  auto page = co_await feed_.page(c, reader, last, offset);
  if (!page) co_return page.error();
  if (!*page) co_return std::optional<FollowingPage>();
  auto rows = co_await blogs_.find_many(std::move((*page)->blog_ids));
  if (!rows) co_return rows.error();
  auto items = co_await decorate(c, std::move(*rows), reader);
  if (!items) co_return items.error();
  co_return std::optional<FollowingPage>(FollowingPage{std::move(*items), (*page)->next});
}

asio::awaitable<Result<std::vector<BlogItem>>> Blogs::decorate(redis::Client& c,
                                                               std::vector<db::Blog> blogs,
                                                               std::optional<int64_t> reader) {
  std::vector<int64_t> author_ids;
  for (const auto& b : blogs) author_ids.push_back(b.user_id);
  std::sort(author_ids.begin(), author_ids.end());
  author_ids.erase(std::unique(author_ids.begin(), author_ids.end()), author_ids.end());
  auto authors = co_await users_.find_many(std::move(author_ids));
  if (!authors) co_return authors.error();
  std::map<int64_t, const db::User*> by_id;
  for (const auto& u : *authors) by_id[u.id] = &u;

  std::vector<bool> liked;
  if (reader && !blogs.empty()) {
    std::vector<int64_t> ids;
    for (const auto& b : blogs) ids.push_back(b.id);
    auto found = co_await likes_.liked_by(c, std::move(ids), *reader);
    if (!found) co_return found.error();
    liked = std::move(*found);
  }
  std::vector<BlogItem> items;
  items.reserve(blogs.size());
  for (size_t i = 0; i < blogs.size(); ++i) {
    BlogItem item{std::move(blogs[i]), std::nullopt, std::nullopt};
    if (auto it = by_id.find(item.blog.user_id); it != by_id.end()) item.author = *it->second;
    if (!liked.empty()) item.liked = liked[i];
    items.push_back(std::move(item));
  }
  co_return items;
}

}  // namespace surge::social
