// Like toggles by script, and the database counter converging on the set's size.
#include "social/likes.h"

#include "core/parse.h"
#include "redis/pipeline.h"
#include "redis/script.h"

namespace surge::social {

namespace {

// Adds or removes the reader in one step, so concurrent clicks cannot both add; answers the
// number of likers afterwards (what tb_blog.liked must say).
const redis::Script kToggleLike(
    "if redis.call('ZSCORE', KEYS[1], ARGV[1]) then "
    "redis.call('ZREM', KEYS[1], ARGV[1]) "
    "else redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end "
    "return redis.call('ZCARD', KEYS[1])");

}  // namespace

std::string Likes::key(int64_t blog) { return "blog:liked:" + std::to_string(blog); }

asio::awaitable<Result<LikeOutcome>> Likes::toggle(redis::Client& c, int64_t blog, int64_t user) {
  auto exists = co_await blogs_.exists(blog);
  if (!exists) co_return exists.error();
  if (!*exists) co_return LikeOutcome::kNoSuchBlog;
  std::vector<std::string> keys{key(blog)};
  std::vector<std::string> args{std::to_string(user), std::to_string(clock_.now_ms())};
  auto count = redis::to_integer(co_await c.run(kToggleLike, std::move(keys), std::move(args)));
  if (!count) co_return count.error();
  // Concurrent toggles may write their counts out of order. Each writer re-reads the set
  // after writing and writes again until they agree, so the last write to land is always
  // followed by a check that saw the final set.
  for (int round = 0; round < 16; ++round) {
    auto written = co_await blogs_.set_liked(blog, *count);
    if (!written) co_return written.error();
    auto request = redis::Request::keyed(1, "ZCARD", key(blog));
    auto card = co_await redis::exec_one<int64_t>(c, std::move(request));
    if (!card) co_return card.error();
    if (*card == *count) break;
    count = card;
  }
  co_return LikeOutcome::kToggled;
}

asio::awaitable<Result<std::vector<db::User>>> Likes::first_likers(redis::Client& c, int64_t blog,
                                                                   int64_t n) {
  auto request = redis::Request::keyed(1, "ZRANGE", key(blog), 0, n - 1);
  auto members = co_await redis::exec_one<std::vector<std::string>>(c, std::move(request));
  if (!members) co_return members.error();
  std::vector<int64_t> ids;
  for (const auto& m : *members) {
    if (auto uid = core::parse_id(m)) ids.push_back(*uid);
  }
  co_return co_await users_.find_many(std::move(ids));
}

asio::awaitable<Result<std::vector<bool>>> Likes::liked_by(redis::Client& c,
                                                           std::vector<int64_t> blogs,
                                                           int64_t user) {
  std::vector<redis::Request> requests;
  requests.reserve(blogs.size());
  for (int64_t b : blogs) requests.push_back(redis::Request::keyed(1, "ZSCORE", key(b), user));
  auto scores = co_await redis::exec_each<redis::Presence>(c, std::move(requests));
  if (!scores) co_return scores.error();
  std::vector<bool> out;
  out.reserve(scores->size());
  for (const auto& s : *scores) out.push_back(s.present);
  co_return out;
}

}  // namespace surge::social
