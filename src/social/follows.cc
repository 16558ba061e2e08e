// Follow rows first, then their mirror: a lost mirror update is repaired by the next follow or
// the next start, a lost row would be a lie.
#include "social/follows.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "core/parse.h"
#include "redis/pipeline.h"
#include "redis/script.h"

namespace surge::social {

namespace {

// Replaces one user's set with ARGV in one step, so a concurrent read never sees it half
// rebuilt; SADD in slices keeps each call's arguments within Lua's stack.
const redis::Script kReplaceFollowSet(
    "redis.call('DEL', KEYS[1]) "
    "for i = 1, #ARGV, 500 do "
    "redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV))) end "
    "return #ARGV");

// The user ids among a set's members, ascending.
std::vector<int64_t> sorted_ids(const std::vector<std::string>& members) {
  std::vector<int64_t> ids;
  ids.reserve(members.size());
  for (const auto& m : members) {
    if (auto id = core::parse_id(m)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Sends `writes` together; any error reply fails the whole.
asio::awaitable<Result<void>> write_all(redis::Client& c, std::vector<redis::Request> writes) {
  if (writes.empty()) co_return Result<void>();
  auto done = co_await c.exec_all(std::move(writes));
  if (!done) co_return done.error();
  for (const auto& r : *done) {
    if (r.is_error()) co_return make_error_code(Errc::kServerError);
  }
  co_return Result<void>();
}

}  // namespace

std::string Follows::key_prefix() { return "follows:"; }
std::string Follows::key(int64_t user) { return key_prefix() + std::to_string(user); }

asio::awaitable<Result<FollowOutcome>> Follows::follow(redis::Client& c, int64_t me,
                                                       int64_t other) {
  if (other == me) co_return FollowOutcome::kSelf;
  auto target = co_await users_.find(other);
  if (!target) co_return target.error();
  if (!*target) co_return FollowOutcome::kNoSuchUser;
  auto added = co_await follows_.follow(me, other);
  if (!added) co_return added.error();
  // Also when the row already existed: that repairs a mirror that lost the member.
  auto add = redis::Request::keyed(1, "SADD", key(me), other);
  auto mirrored = co_await redis::exec_one<int64_t>(c, std::move(add));
  if (!mirrored) co_return mirrored.error();
  co_return FollowOutcome::kDone;
}

asio::awaitable<Result<void>> Follows::unfollow(redis::Client& c, int64_t me, int64_t other) {
  auto removed = co_await follows_.unfollow(me, other);
  if (!removed) co_return removed.error();
  auto remove = redis::Request::keyed(1, "SREM", key(me), other);
  auto mirrored = co_await redis::exec_one<int64_t>(c, std::move(remove));
  if (!mirrored) co_return mirrored.error();
  co_return Result<void>();
}

asio::awaitable<Result<bool>> Follows::is_following(int64_t me, int64_t other) {
  co_return co_await follows_.is_following(me, other);
}

asio::awaitable<Result<std::vector<db::User>>> Follows::common(redis::Client& c, int64_t a,
                                                               int64_t b) {
  auto reads = redis::batch(redis::Request::keyed(1, "SMEMBERS", key(a)),
                            redis::Request::keyed(1, "SMEMBERS", key(b)));
  auto sets = co_await redis::exec_each<std::vector<std::string>>(c, std::move(reads));
  if (!sets) co_return sets.error();
  std::vector<int64_t> of_a = sorted_ids((*sets)[0]), of_b = sorted_ids((*sets)[1]);
  std::vector<int64_t> ids;
  std::set_intersection(of_a.begin(), of_a.end(), of_b.begin(), of_b.end(),
                        std::back_inserter(ids));
  co_return co_await users_.find_many(std::move(ids));
}

asio::awaitable<Result<MirrorStats>> Follows::rebuild_mirror(redis::Client& c) {
  auto pairs = co_await follows_.all();
  if (!pairs) co_return pairs.error();
  std::map<std::string, std::vector<std::string>> by_key;
  for (auto [user, followed] : *pairs) by_key[key(user)].push_back(std::to_string(followed));
  // A set whose user follows nobody in the table any more has no replacement below.
  std::string pattern = key_prefix() + "*";
  auto present = co_await c.scan(std::move(pattern));
  if (!present) co_return present.error();
  std::vector<std::string> stale;
  for (auto& k : *present) {
    if (!by_key.contains(k)) stale.push_back(std::move(k));
  }
  // One request per set (the sets live on many masters of a cluster), a bounded batch at a
  // time. Each set is replaced, not added to, so members the table no longer has go.
  std::vector<redis::Request> writes;
  writes.reserve(stale.size() + by_key.size());
  for (const auto& k : stale) writes.push_back(redis::Request::keyed(1, "DEL", k));
  for (const auto& [k, followed] : by_key) {
    writes.push_back(redis::Request::script_call(kReplaceFollowSet, {k}, followed));
  }
  constexpr size_t kBatch = 500;
  for (size_t i = 0; i < writes.size(); i += kBatch) {
    auto from = writes.begin() + static_cast<std::ptrdiff_t>(i);
    auto to = writes.begin() + static_cast<std::ptrdiff_t>(std::min(writes.size(), i + kBatch));
    std::vector<redis::Request> part(std::make_move_iterator(from), std::make_move_iterator(to));
    auto sent = co_await write_all(c, std::move(part));
    if (!sent) co_return sent.error();
  }
  co_return MirrorStats{pairs->size(), by_key.size(), stale.size()};
}

}  // namespace surge::social
