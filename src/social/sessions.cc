// Session lookup with a sliding TTL.
#include "social/sessions.h"

#include "common/random.h"
#include "core/parse.h"
#include "redis/commands.h"
#include "redis/pipeline.h"

namespace surge::social {

bool Sessions::plausible_token(std::string_view token) {
  if (token.size() != 32) return false;
  for (char ch : token) {
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string Sessions::key(std::string_view token) { return "login:token:" + std::string(token); }

asio::awaitable<Result<std::optional<core::LoggedInUser>>> Sessions::find_and_renew(
    redis::Connection& c, std::string token) {
  std::string k = key(token);
  // PEXPIRE on a missing key does nothing, so both go out together: one round trip per request.
  auto cmd = redis::Command::make("HGETALL", k);
  cmd.add("PEXPIRE", k, static_cast<int64_t>(ttl_.count()));
  auto replies = co_await redis::exec_as<redis::FieldValues, redis::Done>(c, std::move(cmd));
  if (!replies) co_return replies.error();
  core::LoggedInUser user;
  bool has_id = false;
  for (auto& [name, value] : std::get<0>(*replies)) {
    if (name == "id") {
      auto id = core::parse_id(value);
      if (!id) co_return std::optional<core::LoggedInUser>();
      user.id = *id;
      has_id = true;
    } else if (name == "nickName") {
      user.nick_name = std::move(value);
    } else if (name == "icon") {
      user.icon = std::move(value);
    }
  }
  if (!has_id) co_return std::optional<core::LoggedInUser>();
  co_return std::optional<core::LoggedInUser>(std::move(user));
}

asio::awaitable<Result<std::string>> Sessions::open(redis::Connection& c, core::LoggedInUser user) {
  std::string token = random_token();
  std::string k = key(token);
  auto cmd = redis::Command::make("HSET", k, "id", std::to_string(user.id), "nickName",
                                  user.nick_name, "icon", user.icon);
  cmd.add("PEXPIRE", k, static_cast<int64_t>(ttl_.count()));
  auto stored = co_await redis::exec_as<redis::Done, redis::Done>(c, std::move(cmd));
  if (!stored) co_return stored.error();
  co_return token;
}

asio::awaitable<Result<void>> Sessions::close(redis::Connection& c, std::string token) {
  std::vector<std::string> keys{key(token)};
  auto gone = co_await redis::del(c, std::move(keys));
  if (!gone) co_return gone.error();
  co_return Result<void>();
}

}  // namespace surge::social
