// Operator actions on the read-through caches' Redis keys, by key class (`surge cache`): counts
// and sizes, and a flush that running instances notice. Keys are found with SCAN on every master
// (never KEYS, so a large keyspace never blocks Redis); a flush deletes them in batches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "redis/client.h"

namespace surge::cache {

namespace asio = boost::asio;

// The classes `surge serve` caches (cache:<name>:<id>); see app/service.cc.
const std::vector<std::string>& key_classes();

struct KeyClassStats {
  std::string name;
  int64_t entries = 0;   // cache:<name>:*
  int64_t nulls = 0;     // of which null markers (an absent item)
  int64_t bytes = 0;     // value bytes of the entries
  int64_t versions = 0;  // cachever:{cache:<name>:*} (keys invalidated within the version TTL)
  int64_t locks = 0;     // lock:<name>:* (rebuilds in progress)
};

// On the connection's io_context. `name` must be one of key_classes() (kInvalidArgument).
asio::awaitable<Result<KeyClassStats>> class_stats(redis::Client& c, std::string name);

// Deletes every entry of the class (not its versions, which keep guarding fills in flight), then
// publishes ReadThrough::kEveryKey on the class's invalidation channel so every running instance
// empties its near caches of the class. Returns the number of keys deleted.
asio::awaitable<Result<int64_t>> flush_class(redis::Client& c, std::string name);

}  // namespace surge::cache
