// Feed fan-out in bounded pipelines, and scroll pages by score.
#include "social/feed.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "core/parse.h"
#include "redis/commands.h"

namespace surge::social {

std::string Feed::key(int64_t user) { return "feed:" + std::to_string(user); }

asio::awaitable<Result<void>> Feed::publish(redis::Connection& c, int64_t author, int64_t blog) {
  auto fans = co_await follows_.followers(author);
  if (!fans) co_return fans.error();
  if (fans->empty()) co_return Result<void>();
  std::vector<redis::Command> adds;
  adds.reserve(fans->size());
  int64_t now = clock_.now_ms();
  for (int64_t fan : *fans) {
    // Each feed keeps its newest entries only: ZADD, then drop everything below them.
    auto cmd = redis::Command::make("ZADD", key(fan), now, blog);
    cmd.add("ZREMRANGEBYRANK", key(fan), 0, -(options_.keep + 1));
    adds.push_back(std::move(cmd));
  }
  auto pushed = co_await redis::bulk(c, std::move(adds));
  if (!pushed) co_return pushed.error();
  if (pushed->error_replies > 0) {
    spdlog::warn("blog {}: {} of {} feed pushes failed", blog, pushed->error_replies, fans->size());
  }
  co_return Result<void>();
}

asio::awaitable<Result<std::optional<FeedPage>>> Feed::page(redis::Connection& c, int64_t user,
                                                            int64_t last, int64_t offset) {
  auto entries = co_await redis::zrevrangebyscore(c, key(user), static_cast<double>(last), 0,
                                                  offset, options_.page_size);
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
