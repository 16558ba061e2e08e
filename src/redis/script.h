// Lua scripts run by SHA. The SHA1 is computed locally, so the first call already uses EVALSHA;
// a NOSCRIPT answer (fresh server, SCRIPT FLUSH, restart) is answered by the client sending EVAL
// once on that node, which also loads the script there for every later EVALSHA
// (Request::script_call, Client::run).
#pragma once

#include <string>
#include <string_view>

namespace surge::redis {

class Script {
 public:
  explicit Script(std::string body);
  const std::string& body() const { return body_; }
  const std::string& sha() const { return sha_; }

 private:
  std::string body_;
  std::string sha_;
};

// Lower-case hex SHA1, as Redis names scripts.
std::string sha1_hex(std::string_view data);

}  // namespace surge::redis
