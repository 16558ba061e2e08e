// SCAN-driven counting and flushing of cache key classes.
#include "cache/key_classes.h"

#include <algorithm>
#include <functional>

#include "cache/read_through.h"
#include "redis/commands.h"

namespace surge::cache {

namespace {

constexpr int64_t kScanCount = 1000;

bool known(const std::string& name) {
  const auto& all = key_classes();
  return std::find(all.begin(), all.end(), name) != all.end();
}

// Calls `batch` with each SCAN page's keys (may be empty) until the cursor returns to 0.
asio::awaitable<Result<void>> scan(
    redis::Connection& c, const std::string& pattern,
    const std::function<asio::awaitable<Result<void>>(std::vector<std::string>)>& batch) {
  std::string cursor = "0";
  do {
    auto r = co_await c.exec(
        redis::Command::make("SCAN", cursor, "MATCH", pattern, "COUNT", kScanCount));
    if (!r) co_return r.error();
    if (!r->is_array() || r->elements.size() != 2 || !r->elements[1].is_array()) {
      co_return make_error_code(Errc::kProtocol);
    }
    cursor = r->elements[0].str;
    std::vector<std::string> keys;
    for (auto& k : r->elements[1].elements) keys.push_back(std::move(k.str));
    if (!keys.empty()) {
      auto done = co_await batch(std::move(keys));
      if (!done) co_return done.error();
    }
  } while (cursor != "0");
  co_return Result<void>{};
}

asio::awaitable<Result<int64_t>> count(redis::Connection& c, const std::string& pattern) {
  int64_t n = 0;
  auto done = co_await scan(c, pattern,
                            [&n](std::vector<std::string> keys) -> asio::awaitable<Result<void>> {
                              n += static_cast<int64_t>(keys.size());
                              co_return Result<void>{};
                            });
  if (!done) co_return done.error();
  co_return n;
}

std::string entry_pattern(const std::string& name) { return "cache:" + name + ":*"; }

}  // namespace

const std::vector<std::string>& key_classes() {
  static const std::vector<std::string> kAll{"shop", "shopType"};
  return kAll;
}

asio::awaitable<Result<KeyClassStats>> class_stats(redis::Connection& c, std::string name) {
  if (!known(name)) co_return make_error_code(Errc::kInvalidArgument);
  KeyClassStats st;
  st.name = name;
  // Per page, each entry's length and last byte: a null marker is empty, or under the
  // expiry-carrying forms ends with the header's ':' (an item's JSON ends with '}' or ']').
  auto entries = co_await scan(c, entry_pattern(name),
                               [&](std::vector<std::string> keys) -> asio::awaitable<Result<void>> {
                                 redis::Command cmd;
                                 for (const auto& k : keys) {
                                   cmd.add("STRLEN", k);
                                   cmd.add("GETRANGE", k, -1, -1);
                                 }
                                 auto replies = co_await c.exec_all(std::move(cmd));
                                 if (!replies) co_return replies.error();
                                 for (size_t i = 0; i + 1 < replies->size(); i += 2) {
                                   auto len = (*replies)[i].as_integer();
                                   if (!len || *len == 0) {
                                     // Gone between SCAN and STRLEN (expired) is no entry; an empty
                                     // string is a null.
                                     if (len) ++st.entries, ++st.nulls;
                                     continue;
                                   }
                                   ++st.entries;
                                   st.bytes += *len;
                                   if ((*replies)[i + 1].str == ":") ++st.nulls;
                                 }
                                 co_return Result<void>{};
                               });
  if (!entries) co_return entries.error();
  auto versions = co_await count(c, "cachever:" + name + ":*");
  if (!versions) co_return versions.error();
  st.versions = *versions;
  auto locks = co_await count(c, "lock:" + name + ":*");
  if (!locks) co_return locks.error();
  st.locks = *locks;
  co_return st;
}

asio::awaitable<Result<int64_t>> flush_class(redis::Connection& c, std::string name) {
  if (!known(name)) co_return make_error_code(Errc::kInvalidArgument);
  int64_t deleted = 0;
  auto done = co_await scan(c, entry_pattern(name),
                            [&](std::vector<std::string> keys) -> asio::awaitable<Result<void>> {
                              redis::Command cmd;
                              cmd.add_list("UNLINK", keys);
                              auto n = redis::to_integer(co_await c.exec(std::move(cmd)));
                              if (!n) co_return n.error();
                              deleted += *n;
                              co_return Result<void>{};
                            });
  if (!done) co_return done.error();
  auto told =
      co_await redis::publish(c, "cache:invalidate:" + name, std::string(ReadThrough::kEveryKey));
  if (!told) co_return told.error();
  co_return deleted;
}

}  // namespace surge::cache
