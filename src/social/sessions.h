// Sessions: the original's login:token:{token} hash {id, nickName, icon}, found by the raw token
// in the `authorization` header, with a TTL that slides on every request that presents it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "core/user.h"
#include "redis/connection.h"

namespace surge::social {

namespace asio = boost::asio;

// Immutable after construction; shared by every worker, each passing its own connection.
class Sessions {
 public:
  explicit Sessions(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  // Tokens are 32 hex characters; anything else is not looked up at all.
  static bool plausible_token(std::string_view token);

  // Reads the session and renews its TTL in one round trip. nullopt when the token is unknown or
  // expired (or the hash lacks a numeric id); a Redis failure is an error.
  asio::awaitable<Result<std::optional<core::LoggedInUser>>> find_and_renew(redis::Connection& c,
                                                                            std::string token);
  // Stores a session for `user` under a fresh random token; returns the token.
  asio::awaitable<Result<std::string>> open(redis::Connection& c, core::LoggedInUser user);
  // The session is gone at once; closing an unknown token is success.
  asio::awaitable<Result<void>> close(redis::Connection& c, std::string token);

  static std::string key(std::string_view token);

 private:
  std::chrono::milliseconds ttl_;
};

}  // namespace surge::social
