// Session lookup with a sliding TTL.
#include "app/auth.h"

#include "core/parse.h"
#include "redis/commands.h"

namespace surge::app {

bool plausible_token(std::string_view token) {
  if (token.size() != 32) return false;
  for (char ch : token) {
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (!hex) return false;
  }
  return true;
}

boost::asio::awaitable<Result<std::optional<http::Principal>>> authenticate(
    redis::Connection& c, std::string token, std::chrono::milliseconds ttl) {
  std::string key = std::string(kTokenPrefix) + token;
  // PEXPIRE on a missing key does nothing, so both go out together: one round trip per request.
  auto cmd = redis::Command::make("HGETALL", key);
  cmd.add("PEXPIRE", key, static_cast<int64_t>(ttl.count()));
  auto replies = co_await c.exec_all(std::move(cmd));
  if (!replies) co_return replies.error();
  auto fields = redis::to_pairs(Result<redis::Reply>((*replies)[0]));
  if (!fields) co_return fields.error();
  http::Principal user;
  bool has_id = false;
  for (auto& [name, value] : *fields) {
    if (name == "id") {
      auto id = core::parse_id(value);
      if (!id) co_return std::optional<http::Principal>();
      user.id = *id;
      has_id = true;
    } else if (name == "nickName") {
      user.nick_name = std::move(value);
    } else if (name == "icon") {
      user.icon = std::move(value);
    }
  }
  if (!has_id) co_return std::optional<http::Principal>();
  co_return std::optional<http::Principal>(std::move(user));
}

boost::asio::awaitable<Result<void>> store_session(redis::Connection& c, std::string token,
                                                   http::Principal user,
                                                   std::chrono::milliseconds ttl) {
  std::string key = std::string(kTokenPrefix) + token;
  auto cmd = redis::Command::make("HSET", key, "id", std::to_string(user.id), "nickName",
                                  user.nick_name, "icon", user.icon);
  cmd.add("PEXPIRE", key, static_cast<int64_t>(ttl.count()));
  auto replies = co_await c.exec_all(std::move(cmd));
  if (!replies) co_return replies.error();
  for (auto& r : *replies) {
    if (r.is_error()) co_return make_error_code(Errc::kServerError);
  }
  co_return Result<void>();
}

}  // namespace surge::app
