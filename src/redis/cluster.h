// A Redis Cluster client: the slot map, one multiplexed redis::Connection per node, commands
// routed by the slot of their key, MOVED/ASK/TRYAGAIN followed, batches split per node and put
// back in the caller's order, and scripts loaded on whichever node runs them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/error.h"
#include "redis/client.h"
#include "redis/command.h"
#include "redis/connection.h"
#include "redis/reply.h"
#include "redis/script.h"
#include "redis/slot.h"

namespace surge::redis {

struct ClusterOptions {
  std::vector<Endpoint> seeds;  // any nodes of the cluster; the slot map names the rest
  // The template for every node connection (password, client name, timeouts); host and port are
  // replaced per node. A cluster has only database 0.
  Options node;
  // Rounds one command may take: each MOVED, ASK, TRYAGAIN/CLUSTERDOWN answer or lost connection
  // costs one. Past it the batch fails (see ClusterClient::exec_all).
  int max_attempts = 6;
  std::chrono::milliseconds refresh_interval{5000};  // periodic CLUSTER SLOTS
  // Many MOVED answers (or lost connections) at once trigger one refresh, not one each, and the
  // refreshes they trigger are at least this far apart.
  std::chrono::milliseconds min_refresh_gap{100};
  // Before retrying after TRYAGAIN, CLUSTERDOWN or a lost connection.
  std::chrono::milliseconds retry_delay{50};
};

// "host:port,host:port" (the SURGE_REDIS_CLUSTER format); kInvalidArgument when an entry is
// malformed or the list is empty.
Result<std::vector<Endpoint>> parse_seeds(std::string_view list);

struct ClusterStats {
  uint64_t moved = 0;      // MOVED answers followed
  uint64_t asked = 0;      // ASK answers followed (with ASKING)
  uint64_t retried = 0;    // TRYAGAIN / CLUSTERDOWN / lost connection rounds
  uint64_t noscript = 0;   // EVALSHA answered NOSCRIPT and replaced by EVAL on that node
  uint64_t refreshes = 0;  // slot maps installed from CLUSTER SLOTS
};

// Owned by one io_context (single-threaded), like redis::Connection: every member function must
// run on its executor, and it owns its node connections, which live on the same executor. Hold
// it by shared_ptr; the periodic refresh loop keeps it alive until stop(). Engines reach it through
// the Client interface (redis/client.h), like a single node.
class ClusterClient final : public Client, public std::enable_shared_from_this<ClusterClient> {
 public:
  static std::shared_ptr<ClusterClient> create(asio::any_io_executor ex, ClusterOptions options);
  ~ClusterClient();

  // Starts the refresh loop (its first CLUSTER SLOTS at once).
  void start() override;
  // Stops the loop and every node connection; calls in flight fail with kShuttingDown.
  void stop() override;

  // Until the slot map covers all 16384 slots; kTimeout otherwise (last_error() says why).
  asio::awaitable<Result<void>> wait_ready(std::chrono::milliseconds timeout) override;
  bool is_cluster() const override { return true; }

  // A Redis error reply other than a redirection is a successful Result holding a kError Reply,
  // as with Connection::exec.
  // Any number of commands: split per node, sent to all nodes at once (each node's share as one
  // pipeline on its connection), replies returned in the order of `requests`. Fails as a whole
  // when a command still has no final answer after max_attempts rounds: with the transport error
  // of its node if that was the last failure (kUnavailable, kTimeout, kProtocol), otherwise
  // kServerError (a redirection loop, a cluster that stays down); last_error() says which. A
  // node whose connection is down (reconnecting in the background) fails its share of a round
  // at once, so a dead master fails calls within max_attempts * retry_delay, not after seconds;
  // the map refresh that its loss triggered finds the promoted replica.
  asio::awaitable<Result<std::vector<Reply>>> exec_all(std::vector<Request> requests) override;
  // The final answer's node connection is the one whose replicas a WAIT must ask.
  asio::awaitable<Result<Written>> exec_at(Request request) override;
  // Each master of the current slot map in turn; fails with the first node that cannot be
  // scanned (last_error() names it).
  asio::awaitable<Result<std::vector<std::string>>> scan(std::string match) override;

  // Installs a fresh slot map from the first known master or seed that gives one.
  asio::awaitable<Result<void>> refresh();

  const SlotMap& slot_map() const { return map_; }
  const ClusterStats& cluster_stats() const { return stats_; }
  // The node connections' counters added up; safe from any thread.
  Stats stats() const override;
  const std::string& last_error() const { return last_error_; }

 private:
  ClusterClient(asio::any_io_executor ex, ClusterOptions options);
  asio::awaitable<Result<std::shared_ptr<Connection>>> node(Endpoint at);
  // exec_all; with `origins`, also where each final answer came from.
  asio::awaitable<Result<std::vector<Reply>>> exec_routed(std::vector<Request> requests,
                                                          std::vector<Written>* origins);
  asio::awaitable<void> refresh_loop(std::shared_ptr<ClusterClient> self);
  void refresh_soon();
  asio::awaitable<void> refresh_detached(std::shared_ptr<ClusterClient> self);
  void fail(std::string why) { last_error_ = std::move(why); }

  asio::any_io_executor ex_;
  ClusterOptions options_;
  SlotMap map_;
  std::map<std::string, std::shared_ptr<Connection>> nodes_;  // by host:port
  // Guards nodes_'s additions against stats() on another thread (the only reader off the owner).
  mutable std::mutex nodes_mutex_;
  asio::steady_timer refresh_timer_;
  bool stopped_ = false;
  bool refreshing_ = false;
  bool refresh_scheduled_ = false;  // a refresh_soon() waiting for its turn
  Clock::time_point last_refresh_{};
  ClusterStats stats_;
  std::string last_error_;
};

}  // namespace surge::redis
