// Which processes are alive, and what each last said: every process publishes a value under its
// name (<prefix>:<name>, expiring after `ttl`) and adds the name to a set (<prefix>:names);
// readers take the set and the values still there, so a process that stops (killed included)
// drops out once its last value expires, with no clock shared between processes. The dashboard
// publishes each instance's figures this way so any instance can show all of them.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "redis/client.h"

namespace surge::redis {

// Immutable: usable from any thread, each call on the io_context of the client passed in.
class Heartbeats {
 public:
  Heartbeats(std::string prefix, std::chrono::milliseconds ttl)
      : prefix_(std::move(prefix)), ttl_(ttl) {}

  const std::string& names_key() const { return names_; }
  std::string value_key(const std::string& name) const { return prefix_ + ":" + name; }

  // One round trip: the value (for `ttl`) and the name in the set.
  asio::awaitable<Result<void>> publish(Client& c, const std::string& name,
                                        std::string value) const;
  // Every live name with its value, by name; names whose value expired leave the set.
  asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> live(Client& c) const;

 private:
  std::string prefix_;
  std::string names_ = prefix_ + ":names";
  std::chrono::milliseconds ttl_;
};

}  // namespace surge::redis
