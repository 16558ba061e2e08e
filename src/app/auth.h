// Sessions: the original's login:token:{token} hash {id, nickName, icon}, found by the raw token
// in the `authorization` header, with a TTL that slides on every request that presents it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "http/router.h"
#include "redis/connection.h"

namespace surge::app {

inline constexpr std::string_view kTokenPrefix = "login:token:";

// Tokens are 32 hex characters; anything else is not looked up at all.
bool plausible_token(std::string_view token);

// Reads the session and renews its TTL in one round trip. nullopt when the token is unknown or
// expired (or the hash lacks a numeric id); a Redis failure is an error.
boost::asio::awaitable<Result<std::optional<http::Principal>>> authenticate(
    redis::Connection& c, std::string token, std::chrono::milliseconds ttl);

// Stores a session for `user` under `token` with `ttl`.
boost::asio::awaitable<Result<void>> store_session(redis::Connection& c, std::string token,
                                                   http::Principal user,
                                                   std::chrono::milliseconds ttl);

}  // namespace surge::app
