// The seam between engines and Redis topology: `Client` is what an engine that may run on a
// cluster takes. `NodeClient` is one node (a view over one multiplexed Connection),
// `ClusterClient` (redis/cluster.h) a Redis Cluster; the engine sends keyed `Request`s and scripts
// and never learns which it has.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "redis/command.h"
#include "redis/connection.h"
#include "redis/reply.h"
#include "redis/script.h"

namespace surge::redis {

// One command and which of its arguments is the key that places it on a node. The client does
// not guess keys from command names: the caller says, so routing is explicit and total.
struct Request {
  static constexpr size_t kNoKey = static_cast<size_t>(-1);  // any master will do (PING, ...)

  std::vector<std::string> args;
  size_t key_index = kNoKey;
  // Set for EVALSHA requests made by script_call(): on NOSCRIPT the node gets EVAL of the body
  // once (which loads it there). The script must outlive the call.
  const Script* script = nullptr;

  // Request::keyed(1, "SET", key, value): args[key_index] is the key.
  template <class... A>
  static Request keyed(size_t key_index, const A&... args) {
    Request r;
    r.key_index = key_index;
    r.args.reserve(sizeof...(A));
    (r.args.push_back(to_arg(args)), ...);
    return r;
  }
  // Appends arguments (converted as keyed() does), for commands of variable length.
  template <class... A>
  Request& add(const A&... more) {
    (args.push_back(to_arg(more)), ...);
    return *this;
  }
  // EVALSHA of `script` routed by its first key; every key must share that key's slot.
  static Request script_call(const Script& script, std::vector<std::string> keys,
                             std::vector<std::string> args);

  Command command() const;
  // The same request as EVAL of its script's body (after NOSCRIPT).
  Request as_eval() const;

 private:
  template <class T>
  static std::string to_arg(const T& v) {
    if constexpr (std::is_floating_point_v<T>) {
      return fmt::format("{}", v);  // shortest form that Redis parses back to the same double
    } else if constexpr (std::is_arithmetic_v<T>) {
      return std::to_string(v);
    } else {
      return std::string(std::string_view(v));
    }
  }
};

// Several requests as one batch for exec_all (an initializer list would copy each one).
template <class... R>
std::vector<Request> batch(R&&... requests) {
  std::vector<Request> out;
  out.reserve(sizeof...(R));
  (out.push_back(std::forward<R>(requests)), ...);
  return out;
}

// A reply and where it came from: the node connection and its socket generation. A write's
// replication can be waited for only there (Connection::wait_replicas).
struct Written {
  Reply reply;
  std::shared_ptr<Connection> node;
  uint64_t generation = 0;
};

// Owned by one io_context, like the connections behind it: every call runs on its executor.
class Client {
 public:
  virtual ~Client() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Until the client can route every key (a cluster: its slot map covers all slots).
  virtual asio::awaitable<Result<void>> wait_ready(std::chrono::milliseconds timeout) = 0;
  virtual bool is_cluster() const = 0;
  // The counters of the connections behind the client, added up; safe from any thread (the
  // /metrics renderer reads every worker's).
  virtual Stats stats() const = 0;

  // Any number of requests, each on the node of its key; replies in the order of `requests`.
  // A Redis error reply is a successful Result holding a kError Reply.
  virtual asio::awaitable<Result<std::vector<Reply>>> exec_all(std::vector<Request> requests) = 0;
  // One request, with the connection that answered it (for a replication wait).
  virtual asio::awaitable<Result<Written>> exec_at(Request request) = 0;

  // Every key matching the SCAN pattern `match` on every master, a page at a time so no node is
  // blocked. On a cluster, a key whose slot moves between masters meanwhile may be missed or
  // listed twice.
  virtual asio::awaitable<Result<std::vector<std::string>>> scan(std::string match) = 0;

  // One request (exec_all of one, unless the client has a shorter way).
  virtual asio::awaitable<Result<Reply>> exec(Request request);
  // A script by SHA on the node of its first key (NOSCRIPT answered with EVAL there).
  asio::awaitable<Result<Reply>> run(const Script& script, std::vector<std::string> keys,
                                     std::vector<std::string> args);
};

// Waits until `replicas` replicas hold the write behind `w` (grouped per connection): the number
// that acknowledged within `timeout`, or kUnavailable when the node's socket was lost meanwhile.
asio::awaitable<Result<int64_t>> replicated(const Written& w, int replicas,
                                            std::chrono::milliseconds timeout);

// SCAN of one node's keys matching `match`, appended to `out` (which must outlive the call).
asio::awaitable<Result<void>> scan_node(Connection& c, std::string match,
                                        std::vector<std::string>& out);

// One Redis node: a view over a Connection made with Connection::create (it shares ownership).
// Same io_context as the connection.
class NodeClient final : public Client {
 public:
  explicit NodeClient(Connection& conn) : conn_(conn.shared_from_this()) {}
  static std::shared_ptr<NodeClient> create(asio::any_io_executor ex, Options options);

  void start() override { conn_->start(); }
  void stop() override { conn_->stop(); }
  asio::awaitable<Result<void>> wait_ready(std::chrono::milliseconds timeout) override {
    return conn_->wait_ready(timeout);
  }
  bool is_cluster() const override { return false; }
  Stats stats() const override { return conn_->stats(); }
  asio::awaitable<Result<std::vector<Reply>>> exec_all(std::vector<Request> requests) override;
  asio::awaitable<Result<Written>> exec_at(Request request) override;
  // Straight to the connection: the common single command costs no batch.
  asio::awaitable<Result<Reply>> exec(Request request) override;
  asio::awaitable<Result<std::vector<std::string>>> scan(std::string match) override;
  Connection& connection() { return *conn_; }

 private:
  std::shared_ptr<Connection> conn_;
};

}  // namespace surge::redis
