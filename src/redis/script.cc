// EVALSHA with transparent NOSCRIPT recovery.
#include "redis/script.h"

#include <fmt/format.h>
#include <boost/uuid/detail/sha1.hpp>

namespace surge::redis {

std::string sha1_hex(std::string_view data) {
  boost::uuids::detail::sha1 h;
  h.process_bytes(data.data(), data.size());
  boost::uuids::detail::sha1::digest_type digest;
  h.get_digest(digest);
  std::string out;
  for (unsigned word : digest) fmt::format_to(std::back_inserter(out), "{:08x}", word);
  return out;
}

Script::Script(std::string body) : body_(std::move(body)), sha_(sha1_hex(body_)) {}

Command Script::build(std::string_view verb, std::string_view ref,
                      const std::vector<std::string>& keys,
                      const std::vector<std::string>& args) const {
  Command c;
  c.begin(3 + keys.size() + args.size());
  c.arg(verb).arg(ref).arg(static_cast<int64_t>(keys.size()));
  for (const auto& k : keys) c.arg(k);
  for (const auto& a : args) c.arg(a);
  return c;
}

Command Script::evalsha(const std::vector<std::string>& keys,
                        const std::vector<std::string>& args) const {
  return build("EVALSHA", sha_, keys, args);
}

asio::awaitable<Result<Reply>> Script::run(Connection& conn, std::vector<std::string> keys,
                                           std::vector<std::string> args) const {
  auto r = co_await conn.exec(evalsha(keys, args));
  if (r && r->is_error() && r->str.starts_with("NOSCRIPT")) {
    r = co_await conn.exec(build("EVAL", body_, keys, args));
  }
  co_return r;
}

}  // namespace surge::redis
