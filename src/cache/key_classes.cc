// SCAN-driven counting and flushing of cache key classes.
#include "cache/key_classes.h"

#include <algorithm>
#include <functional>

#include "cache/read_through.h"
#include "redis/commands.h"
#include "redis/pipeline.h"

namespace surge::cache {

namespace {

constexpr int64_t kScanCount = 1000;

bool known(const std::string& name) {
  const auto& all = key_classes();
  return std::find(all.begin(), all.end(), name) != all.end();
}

// Calls `batch` with the keys matching `pattern` on every master, kScanCount at a time.
asio::awaitable<Result<void>> scan(
    redis::Client& c, const std::string& pattern,
    const std::function<asio::awaitable<Result<void>>(std::vector<std::string>)>& batch) {
  auto keys = co_await c.scan(pattern);
  if (!keys) co_return keys.error();
  for (size_t i = 0; i < keys->size(); i += kScanCount) {
    size_t end = std::min(keys->size(), i + static_cast<size_t>(kScanCount));
    std::vector<std::string> page(std::make_move_iterator(keys->begin() + i),
                                  std::make_move_iterator(keys->begin() + end));
    auto done = co_await batch(std::move(page));
    if (!done) co_return done.error();
  }
  co_return Result<void>{};
}

asio::awaitable<Result<int64_t>> count(redis::Client& c, const std::string& pattern) {
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

asio::awaitable<Result<KeyClassStats>> class_stats(redis::Client& c, std::string name) {
  if (!known(name)) co_return make_error_code(Errc::kInvalidArgument);
  KeyClassStats st;
  st.name = name;
  // Per page, each entry's length and last byte: a null marker is empty, or under the
  // expiry-carrying forms ends with the header's ':' (an item's JSON ends with '}' or ']').
  auto entries = co_await scan(c, entry_pattern(name),
                               [&](std::vector<std::string> keys) -> asio::awaitable<Result<void>> {
                                 std::vector<redis::Request> reads;
                                 for (const auto& k : keys) {
                                   reads.push_back(redis::Request::keyed(1, "STRLEN", k));
                                   reads.push_back(redis::Request::keyed(1, "GETRANGE", k, -1, -1));
                                 }
                                 auto replies = co_await c.exec_all(std::move(reads));
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
  auto versions = co_await count(c, "cachever:{" + entry_pattern(name) + "}");
  if (!versions) co_return versions.error();
  st.versions = *versions;
  auto locks = co_await count(c, "lock:" + name + ":*");
  if (!locks) co_return locks.error();
  st.locks = *locks;
  co_return st;
}

asio::awaitable<Result<int64_t>> flush_class(redis::Client& c, std::string name) {
  if (!known(name)) co_return make_error_code(Errc::kInvalidArgument);
  int64_t deleted = 0;
  auto done = co_await scan(c, entry_pattern(name),
                            [&](std::vector<std::string> keys) -> asio::awaitable<Result<void>> {
                              auto n = co_await redis::del(c, std::move(keys));
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
