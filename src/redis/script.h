// Lua scripts run by SHA. The SHA1 is computed locally, so the first call already uses EVALSHA;
// a NOSCRIPT answer (fresh server, SCRIPT FLUSH, restart) is handled by sending EVAL once, which
// also loads the script for every later EVALSHA.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "redis/connection.h"

namespace surge::redis {

class Script {
 public:
  explicit Script(std::string body);
  const std::string& body() const { return body_; }
  const std::string& sha() const { return sha_; }

  // Runs the script; a script error is a Reply of type kError (like any other command).
  // Keys must be declared in `keys` (and share a hash tag) for the script to run on a cluster.
  asio::awaitable<Result<Reply>> run(Connection& conn, std::vector<std::string> keys,
                                     std::vector<std::string> args) const;

  // The EVALSHA command alone, for callers that batch scripts with other commands.
  Command evalsha(const std::vector<std::string>& keys, const std::vector<std::string>& args) const;

 private:
  Command build(std::string_view verb, std::string_view ref, const std::vector<std::string>& keys,
                const std::vector<std::string>& args) const;
  std::string body_;
  std::string sha_;
};

// Lower-case hex SHA1, as Redis names scripts.
std::string sha1_hex(std::string_view data);

}  // namespace surge::redis
