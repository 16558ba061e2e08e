// A Redis Cluster of a suite's own (scripts/services --redis-cluster 3: 3 masters, 3 replicas,
// no MariaDB), started once per test program by a global environment and stopped at its end.
// A suite registers it with ::testing::AddGlobalTestEnvironment(new test::ClusterEnvironment),
// which also makes CMake build that suite as an executable of its own.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "redis/cluster.h"
#include "redis/slot.h"
#include "support/processes.h"

namespace surge::test {

struct ClusterStores {
  std::string dir;                     // the services dir (run/, data/, surge.env)
  std::vector<redis::Endpoint> seeds;  // every node, from the env file
};

// The running cluster, or nullptr when it did not start (each test then fails on its own).
inline ClusterStores*& cluster_stores() {
  static ClusterStores* stores = nullptr;
  return stores;
}

inline std::string services_script() { return std::string(SURGE_SOURCE_DIR) + "/scripts/services"; }

class ClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    using namespace std::chrono_literals;
    char tmpl[] = "/tmp/surge-cluster-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    auto stores = std::make_unique<ClusterStores>();
    stores->dir = tmpl;
    Child start({services_script(), "start", "--dir", stores->dir, "--redis-port", "0",
                 "--redis-cluster", "3", "--without-mysql", "--quiet"});
    ASSERT_EQ(start.wait(180s), 0) << "scripts/services start --redis-cluster 3 failed";
    std::ifstream env(stores->dir + "/surge.env");
    std::string line;
    while (std::getline(env, line)) {
      if (line.starts_with("SURGE_REDIS_CLUSTER=")) {
        auto seeds = redis::parse_seeds(line.substr(line.find('=') + 1));
        ASSERT_TRUE(seeds) << line;
        stores->seeds = *seeds;
      }
    }
    ASSERT_EQ(stores->seeds.size(), 6u) << "the env file names every node";
    cluster_stores() = stores.release();
  }
  void TearDown() override {
    using namespace std::chrono_literals;
    ClusterStores*& stores = cluster_stores();
    if (!stores) return;
    Child stop({services_script(), "stop", "--dir", stores->dir, "--quiet"});
    EXPECT_EQ(stop.wait(120s), 0);
    std::error_code ignored;
    std::filesystem::remove_all(stores->dir, ignored);
    delete stores;
    stores = nullptr;
  }
};

}  // namespace surge::test
