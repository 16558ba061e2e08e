// What the one-shot operator commands (`surge reconcile`, `orders`, `cache`, `voucher`) share:
// their own io_context, a Redis client (the node, or the cluster with --redis-cluster) and, when
// asked, a small MariaDB pool.
#pragma once

#include <functional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "app/config.h"
#include "db/pool.h"
#include "redis/client.h"

namespace surge::app {

// Exit codes every operator command uses (CLI11 parse errors are mapped to kExitUsage in main).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFound = 1;  // the command ran and found or left something wrong
inline constexpr int kExitUsage = 2;  // bad flags, or a store could not be reached or read

struct CommandStores {
  redis::Client& redis;
  db::Pool* pool;  // null unless asked for
};

// Runs `body` on a fresh io_context (the only one; the connections and `body` live on it) until
// it returns its exit code. A Redis (a cluster: its slot map) not ready within 3 s is reported as
// "<name>: redis not reachable" and kExitUsage without running `body`.
int run_command(const Config& config, std::string_view name, bool with_db,
                std::function<boost::asio::awaitable<int>(CommandStores&)> body);

}  // namespace surge::app
