// A script's name: the SHA1 Redis gives its body.
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

}  // namespace surge::redis
