// Access to the test stores started by the CTest `stores` fixture (scripts/services), and helpers
// for tests that need a store of their own.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "app/config.h"
#include "redis/client.h"

namespace surge::test {

struct Stores {
  redis::Options redis;
  db::Options db;
  std::string var_dir;
  std::string admin_token;  // sent as the authorization header for shop and voucher writes
  // The seed list of a Redis Cluster (SURGE_REDIS_CLUSTER) when the suite runs with every feature
  // on a cluster (the cluster.* CTest entries); empty on the fixture's single Redis.
  std::string redis_cluster;
};

// Reads $SURGE_TEST_ENV (written by `scripts/services start`); fails the calling test via
// GTEST_SKIP-free hard failure if it is missing, since integration tests must not silently pass.
const Stores& stores();

// db::Options for MariaDB's root account on the same server (for creating scratch databases).
db::Options root_db();
// The fixture's database options with a pool of `pool_size` connections.
db::Options pool_options(size_t pool_size);
// Runs one statement as root (scratch tables, planted rows); a failure fails the test.
void exec_root(const std::string& sql);

// A client on `ex` (not started) on the Redis Cluster `cluster` (a seed list) or, when it is
// empty, on the fixture's node. By default the suite's Redis, where its `surge serve` keeps
// sessions, sale and caches.
std::shared_ptr<redis::Client> redis_client(boost::asio::any_io_executor ex,
                                            const std::string& cluster = stores().redis_cluster);

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

}  // namespace surge::test
