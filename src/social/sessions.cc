// Session lookup: a per-worker near cache in front of the Redis hash, a sliding TTL renewed by
// each Redis read, an absolute lifetime, and closes announced to every near cache.
#include "social/sessions.h"

#include <algorithm>
#include <limits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/random.h"
#include "core/exposition.h"
#include "core/parse.h"
#include "redis/pipeline.h"

namespace surge::social {

Sessions::Sessions(SessionOptions options, const Clock& clock,
                   std::vector<asio::any_io_executor> workers)
    : options_(options), clock_(clock), executors_(std::move(workers)) {
  for (size_t i = 0; i < executors_.size(); ++i) {
    workers_.add(std::make_unique<Worker>(options_.near_capacity));
  }
}

bool Sessions::plausible_token(std::string_view token) {
  if (token.size() != 32) return false;
  for (char ch : token) {
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string Sessions::key(std::string_view token) { return "login:token:" + std::string(token); }

std::string Sessions::user_key(int64_t user_id) {
  return "login:tokens:" + std::to_string(user_id);
}

std::optional<core::LoggedInUser> Sessions::find_here(std::string_view token) {
  if (!near_enabled() || !this_worker::inside()) return std::nullopt;
  Worker& w = *workers_.local();
  auto now = EpochClock::time_point(std::chrono::milliseconds(clock_.now_ms()));
  const Cached* hit = w.near.find(token, now);
  if (!hit) return std::nullopt;
  w.near_hits.fetch_add(1, std::memory_order_relaxed);
  return hit->user;
}

asio::awaitable<Result<std::optional<core::LoggedInUser>>> Sessions::find_and_renew(
    redis::Client& c, std::string token) {
  using Found = std::optional<core::LoggedInUser>;
  if (auto hit = find_here(token)) co_return hit;
  int64_t now = clock_.now_ms();
  auto at = [](int64_t ms) { return EpochClock::time_point(std::chrono::milliseconds(ms)); };
  Worker* w = near_enabled() && this_worker::inside() ? workers_.local().get() : nullptr;
  uint64_t epoch = 0;
  if (w) {
    w->redis_reads.fetch_add(1, std::memory_order_relaxed);
    epoch = w->epoch;
  }
  std::string k = key(token);
  // PEXPIRE on a missing key does nothing, so both go out together: one round trip.
  auto read = redis::batch(
      redis::Request::keyed(1, "HGETALL", k),
      redis::Request::keyed(1, "PEXPIRE", k, static_cast<int64_t>(options_.ttl.count())));
  auto replies = co_await redis::exec_as<redis::FieldValues, redis::Done>(c, std::move(read));
  if (!replies) co_return replies.error();
  core::LoggedInUser user;
  bool has_id = false;
  std::optional<int64_t> born;  // absent in sessions another program wrote: no absolute limit
  for (auto& [name, value] : std::get<0>(*replies)) {
    if (name == "id") {
      auto id = core::parse_id(value);
      if (!id) co_return Found();
      user.id = *id;
      has_id = true;
    } else if (name == "nickName") {
      user.nick_name = std::move(value);
    } else if (name == "icon") {
      user.icon = std::move(value);
    } else if (name == "born") {
      born = core::parse_int64(value);
    }
  }
  if (!has_id) co_return Found();
  int64_t ends = std::numeric_limits<int64_t>::max();
  if (born && options_.max_age.count() > 0) ends = *born + options_.max_age.count();
  if (now >= ends) {
    // Renewed a moment ago by the PEXPIRE above, so it must go explicitly.
    (void)co_await close(c, std::move(token));
    co_return Found();
  }
  // The worker's epoch moved while Redis answered: a close may have overtaken this read.
  if (w && w->epoch == epoch) {
    w->near.put(token, Cached{user}, at(std::min(now + options_.near_ttl.count(), ends)));
  }
  co_return Found(std::move(user));
}

asio::awaitable<Result<std::string>> Sessions::open(redis::Client& c, core::LoggedInUser user) {
  std::string token = random_token();
  std::string k = key(token);
  std::string index = user_key(user.id);
  auto writes = redis::batch(
      redis::Request::keyed(1, "HSET", k, "id", std::to_string(user.id), "nickName", user.nick_name,
                            "icon", user.icon, "born", clock_.now_ms()),
      redis::Request::keyed(1, "PEXPIRE", k, static_cast<int64_t>(options_.ttl.count())),
      // The index outlives every session in it: none lives longer than max_age (or the TTL).
      redis::Request::keyed(1, "SADD", index, token),
      redis::Request::keyed(
          1, "PEXPIRE", index,
          static_cast<int64_t>(std::max(options_.ttl, options_.max_age).count())));
  auto stored = co_await redis::exec_as<redis::Done, redis::Done, redis::Done, redis::Done>(
      c, std::move(writes));
  if (!stored) co_return stored.error();
  co_return token;
}

namespace {

redis::Request announce_closed(const std::string& token) {
  return redis::Request::keyed(redis::Request::kNoKey, "PUBLISH", Sessions::kChannel, token);
}

}  // namespace

asio::awaitable<Result<void>> Sessions::close(redis::Client& c, std::string token) {
  auto requests = redis::batch(redis::Request::keyed(1, "DEL", key(token)), announce_closed(token));
  auto gone = co_await redis::exec_as<redis::Done, redis::Done>(c, std::move(requests));
  if (!gone) co_return gone.error();
  co_await drop_here(token);
  co_return Result<void>();
}

asio::awaitable<Result<int64_t>> Sessions::close_all(redis::Client& c, int64_t user_id) {
  std::string index = user_key(user_id);
  auto tokens = co_await redis::exec_one<std::vector<std::string>>(
      c, redis::Request::keyed(1, "SMEMBERS", index));
  if (!tokens) co_return tokens.error();
  std::vector<redis::Request> requests;
  requests.reserve(2 * tokens->size() + 1);
  for (const auto& t : *tokens) requests.push_back(redis::Request::keyed(1, "DEL", key(t)));
  for (const auto& t : *tokens) requests.push_back(announce_closed(t));
  requests.push_back(redis::Request::keyed(1, "DEL", index));
  auto done = co_await redis::exec_each<int64_t>(c, std::move(requests));
  if (!done) co_return done.error();
  int64_t live = 0;
  for (size_t i = 0; i < tokens->size(); ++i) live += (*done)[i];
  for (const auto& t : *tokens) co_await drop_here(t);
  co_return live;
}

// Each worker in turn, on its own io_context; the caller resumes when all have dropped it, so a
// request after the close's answer finds no trace of the session on any worker.
asio::awaitable<void> Sessions::drop_here(const std::string& token) {
  if (!near_enabled()) co_return;
  for (size_t i = 0; i < executors_.size(); ++i) {
    Worker* w = workers_.at(i).get();
    co_await asio::co_spawn(
        executors_[i],
        [w, &token]() -> asio::awaitable<void> {
          w->near.erase(token);
          ++w->epoch;
          co_return;
        },
        asio::use_awaitable);
  }
}

void Sessions::drop_everywhere(const std::string& token) {
  for (size_t i = 0; i < executors_.size(); ++i) {
    asio::post(executors_[i], [w = workers_.at(i).get(), token] {
      w->near.erase(token);
      ++w->epoch;
    });
  }
}

void Sessions::on_message(std::string_view channel, const std::string& token) {
  if (channel != kChannel || !near_enabled()) return;
  drop_everywhere(token);
}

void Sessions::on_feed_state(bool connected) {
  if (connected || !near_enabled()) return;
  // Announcements may be lost while the feed is down: no near entry can be trusted.
  for (size_t i = 0; i < executors_.size(); ++i) {
    asio::post(executors_[i], [w = workers_.at(i).get()] {
      w->near.clear();
      ++w->epoch;
    });
  }
}

void Sessions::render_metrics(std::string& out) const {
  uint64_t near = 0, redis = 0;
  for (size_t i = 0; i < workers_.size(); ++i) {
    near += workers_.at(i)->near_hits.load(std::memory_order_relaxed);
    redis += workers_.at(i)->redis_reads.load(std::memory_order_relaxed);
  }
  core::Exposition e(out);
  e.family("surge_session_lookups_total", "counter",
           "Session lookups by where they were answered (near: the worker's near cache).");
  e.sample("surge_session_lookups_total", "result=\"near\"", near);
  e.sample("surge_session_lookups_total", "result=\"redis\"", redis);
}

}  // namespace surge::social
