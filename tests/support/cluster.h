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

#include <boost/asio/io_context.hpp>

#include "redis/cluster.h"
#include "redis/slot.h"
#include "support/drive.h"
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

// A test with a ready ClusterClient on the suite's cluster (all 3 masters known), on the test's
// own io_context, and the two questions the cluster suites ask about keys.
class OnCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    using namespace std::chrono_literals;
    ASSERT_NE(cluster_stores(), nullptr) << "the cluster did not start";
    redis::ClusterOptions o;
    o.seeds = cluster_stores()->seeds;
    o.node.connect_timeout = 1000ms;
    o.node.request_timeout = 5000ms;
    client_ = redis::ClusterClient::create(ctx_.get_executor(), o);
    client_->start();
    ASSERT_TRUE(run_co(ctx_, client_->wait_ready(20s))) << client_->last_error();
    ASSERT_EQ(client_->slot_map().masters().size(), 3u);
  }
  ~OnCluster() override {
    if (client_) client_->stop();
    drive_for(ctx_, std::chrono::milliseconds(20));
  }

  // The master that holds `key`.
  std::string master_of(const std::string& key) const {
    return client_->slot_map().owner(redis::key_slot(key))->to_string();
  }
  // Whether `verb a b` (a command over two keys) is refused as CROSSSLOT: proof that keys are on
  // different slots, so an engine sending them in one command or script would fail.
  bool crossslot(const std::string& verb, const std::string& a, const std::string& b) {
    auto r = run_co(ctx_, client_->exec(redis::Request::keyed(1, verb, a, b)));
    return r && r->is_error() && r->str.starts_with("CROSSSLOT");
  }

  boost::asio::io_context ctx_;
  std::shared_ptr<redis::ClusterClient> client_;
};

}  // namespace surge::test
