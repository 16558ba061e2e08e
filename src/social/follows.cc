// Follow rows first, then their mirror: a lost mirror update is repaired by the next follow or
// the next start, a lost row would be a lie.
#include "social/follows.h"

#include <algorithm>
#include <map>

#include "core/parse.h"
#include "redis/commands.h"

namespace surge::social {

std::string Follows::key_prefix() { return "follows:"; }
std::string Follows::key(int64_t user) { return key_prefix() + std::to_string(user); }

asio::awaitable<Result<FollowOutcome>> Follows::follow(redis::Connection& c, int64_t me,
                                                       int64_t other) {
  if (other == me) co_return FollowOutcome::kSelf;
  auto target = co_await users_.find(other);
  if (!target) co_return target.error();
  if (!*target) co_return FollowOutcome::kNoSuchUser;
  auto added = co_await follows_.follow(me, other);
  if (!added) co_return added.error();
  // Also when the row already existed: that repairs a mirror that lost the member.
  std::vector<std::string> member{std::to_string(other)};
  auto mirrored = co_await redis::sadd(c, key(me), std::move(member));
  if (!mirrored) co_return mirrored.error();
  co_return FollowOutcome::kDone;
}

asio::awaitable<Result<void>> Follows::unfollow(redis::Connection& c, int64_t me, int64_t other) {
  auto removed = co_await follows_.unfollow(me, other);
  if (!removed) co_return removed.error();
  std::vector<std::string> member{std::to_string(other)};
  auto mirrored = co_await redis::srem(c, key(me), std::move(member));
  if (!mirrored) co_return mirrored.error();
  co_return Result<void>();
}

asio::awaitable<Result<bool>> Follows::is_following(int64_t me, int64_t other) {
  co_return co_await follows_.is_following(me, other);
}

asio::awaitable<Result<std::vector<db::User>>> Follows::common(redis::Connection& c, int64_t a,
                                                               int64_t b) {
  std::vector<std::string> keys{key(a), key(b)};
  auto both = co_await redis::sinter(c, std::move(keys));
  if (!both) co_return both.error();
  std::vector<int64_t> ids;
  for (const auto& m : *both) {
    if (auto uid = core::parse_id(m)) ids.push_back(*uid);
  }
  std::sort(ids.begin(), ids.end());
  co_return co_await users_.find_many(std::move(ids));
}

asio::awaitable<Result<std::vector<std::string>>> Follows::mirror_keys(redis::Connection& c) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto page = co_await c.exec(
        redis::Command::make("SCAN", cursor, "MATCH", key_prefix() + "*", "COUNT", 1000));
    if (!page) co_return page.error();
    if (!page->is_array() || page->elements.size() != 2 || !page->elements[1].is_array()) {
      co_return make_error_code(Errc::kServerError);
    }
    cursor = page->elements[0].str;
    for (const auto& k : page->elements[1].elements) keys.push_back(k.str);
  } while (cursor != "0");
  co_return keys;
}

asio::awaitable<Result<MirrorStats>> Follows::rebuild_mirror(redis::Connection& c) {
  auto pairs = co_await follows_.all();
  if (!pairs) co_return pairs.error();
  std::map<std::string, std::vector<std::string>> by_key;
  for (auto [user, followed] : *pairs) by_key[key(user)].push_back(std::to_string(followed));
  // A set whose user follows nobody in the table any more has no replacement below.
  auto present = co_await mirror_keys(c);
  if (!present) co_return present.error();
  std::vector<std::string> stale;
  for (auto& k : *present) {
    if (!by_key.contains(k)) stale.push_back(std::move(k));
  }
  std::vector<redis::Command> commands;
  constexpr size_t kPerCommand = 500;
  for (size_t i = 0; i < stale.size(); i += kPerCommand) {
    size_t n = std::min(kPerCommand, stale.size() - i);
    redis::Command cmd;
    cmd.add_list("DEL", {stale.begin() + i, stale.begin() + i + n});
    commands.push_back(std::move(cmd));
  }
  // Each set is replaced, not added to, so members the table no longer has go; inside MULTI, so
  // a concurrent SINTER never sees a set half rebuilt.
  for (const auto& [k, followed] : by_key) {
    auto cmd = redis::Command::make("MULTI");
    cmd.add("DEL", k);
    for (size_t i = 0; i < followed.size(); i += kPerCommand) {
      size_t n = std::min(kPerCommand, followed.size() - i);
      cmd.add_list("SADD", k, {followed.begin() + i, followed.begin() + i + n});
    }
    cmd.add("EXEC");
    commands.push_back(std::move(cmd));
  }
  auto done = co_await redis::bulk(c, std::move(commands));
  if (!done) co_return done.error();
  if (done->error_replies > 0) co_return make_error_code(Errc::kServerError);
  co_return MirrorStats{pairs->size(), by_key.size(), stale.size()};
}

}  // namespace surge::social
