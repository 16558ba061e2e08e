// Feed fan-out in bounded batches, and scroll pages by score.
#include "social/feed.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/parse.h"
#include "redis/pipeline.h"

namespace surge::social {

std::string Feed::key(int64_t user) { return "feed:" + std::to_string(user); }

asio::awaitable<Result<void>> Feed::publish(redis::Client& c, int64_t author, int64_t blog) {
  auto fans = co_await follows_.followers(author);
  if (!fans) co_return fans.error();
  if (fans->empty()) co_return Result<void>();
  // Followers per batch: bounds what one fan-out holds in flight, however many followers.
  constexpr size_t kBatch = 500;
  int64_t now = clock_.now_ms();
  size_t failed = 0;
  for (size_t first = 0; first < fans->size(); first += kBatch) {
    size_t end = std::min(fans->size(), first + kBatch);
    std::vector<redis::Request> adds;
    adds.reserve(2 * (end - first));
    for (size_t i = first; i < end; ++i) {
      std::string k = key((*fans)[i]);
      // Each feed keeps its newest entries only: ZADD, then drop everything below them.
      adds.push_back(redis::Request::keyed(1, "ZADD", k, now, blog));
      adds.push_back(redis::Request::keyed(1, "ZREMRANGEBYRANK", k, 0, -(options_.keep + 1)));
    }
    auto pushed = co_await c.exec_all(std::move(adds));
    if (!pushed) co_return pushed.error();
    for (const auto& r : *pushed) failed += r.is_error() ? 1 : 0;
  }
  if (failed > 0) {
    spdlog::warn("blog {}: {} of {} feed writes failed", blog, failed, 2 * fans->size());
  }
  co_return Result<void>();
}

asio::awaitable<Result<std::optional<FeedPage>>> Feed::page(redis::Client& c, int64_t user,
                                                            int64_t last, int64_t offset) {
  auto request = redis::Request::keyed(1, "ZREVRANGEBYSCORE", key(user), last, 0, "WITHSCORES",
                                       "LIMIT", offset, options_.page_size);
  auto entries = co_await redis::exec_one<redis::ScoredMembers>(c, std::move(request));
  if (!entries) co_return entries.error();
  FeedPage page;
  std::vector<int64_t> scores;
  for (const auto& [member, score] : *entries) {
    scores.push_back(std::llround(score));
    if (auto id = core::parse_id(member)) page.blog_ids.push_back(*id);
  }
  auto cursor = core::next_scroll_cursor(scores, last, offset);
  if (!cursor) co_return std::optional<FeedPage>();
  page.next = *cursor;
  co_return std::optional<FeedPage>(std::move(page));
}

}  // namespace surge::social
