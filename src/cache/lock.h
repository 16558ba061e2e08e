// A simple distributed lock: SET key token NX PX ttl with a CSPRNG owner token, released by a Lua
// script that deletes the key only while it still holds our token (a slow holder whose lease
// expired can never delete the next holder's lock).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "redis/client.h"

namespace surge::cache {

namespace asio = boost::asio;

struct LockLease {
  std::string key;
  std::string token;
};

// One attempt; nullopt when someone else holds the lock.
asio::awaitable<Result<std::optional<LockLease>>> try_lock(redis::Client& c, std::string key,
                                                           std::chrono::milliseconds ttl);
// Retries try_lock with a short growing pause until it succeeds or `wait` has passed (nullopt).
asio::awaitable<Result<std::optional<LockLease>>> lock_within(redis::Client& c, std::string key,
                                                              std::chrono::milliseconds ttl,
                                                              std::chrono::milliseconds wait);
// True when our lease was still held and is now released.
asio::awaitable<Result<bool>> unlock(redis::Client& c, LockLease lease);

}  // namespace surge::cache
