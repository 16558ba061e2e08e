// One multiplexed Redis connection: any number of coroutines on the owning io_context share it.
// Requests go into one FIFO and one write buffer; everything queued while a write is in flight
// leaves in the next single write (automatic pipelining), and the reader decodes every complete
// reply after each read. The connection reconnects with backoff; while it is down, requests fail
// at once with Errc::kUnavailable instead of queueing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/error.h"
#include "redis/command.h"
#include "redis/reply.h"
#include "redis/slot.h"

namespace surge::redis {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;  // ACL user; empty means AUTH with the password alone
  std::string password;
  int db = 0;
  std::string client_name = "surge";
  std::chrono::milliseconds connect_timeout{1000};
  // A request unanswered this long means the server is stalled: every in-flight request fails
  // with Errc::kTimeout and the connection is re-established.
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  // Nodes to try in turn after host:port cannot be reached (a subscriber on a Redis Cluster: a
  // PUBLISH on any node reaches every node, so the feed may listen on any of them).
  std::vector<Endpoint> alternates;
};

struct Stats {
  uint64_t requests = 0;
  uint64_t writes = 0;  // socket writes; requests / writes is the pipelining factor
  uint64_t reconnects = 0;
  uint64_t timeouts = 0;
};

// Owned by one io_context (single-threaded): every member function must run on its executor.
// Hold it by shared_ptr; the background loop keeps it alive until stop().
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Handler = asio::any_completion_handler<void(error_code, std::vector<Reply>)>;

  static std::shared_ptr<Connection> create(asio::any_io_executor ex, Options options);
  ~Connection();

  void start();
  // Closes the socket, fails everything in flight with Errc::kShuttingDown, stops reconnecting.
  void stop();
  bool connected() const { return state_ == State::kReady; }
  const Options& options() const { return options_; }
  // A snapshot; safe from any thread (the /metrics renderer reads it from another worker).
  Stats stats() const {
    return {load(counters_.requests), load(counters_.writes), load(counters_.reconnects),
            load(counters_.timeouts)};
  }

  // Pub/sub. With a push handler set, "message"/"pmessage" replies go to it instead of the FIFO.
  // Subscriptions are remembered and renewed on every reconnect, before the connection reports
  // ready. Such a connection should carry only (UN)SUBSCRIBE and PING commands.
  using PushHandler = std::function<void(Reply)>;
  void set_push_handler(PushHandler handler) { push_handler_ = std::move(handler); }
  asio::awaitable<Result<void>> subscribe(std::string channel);
  // Before start(): the channel is subscribed in the first handshake.
  void add_subscription(std::string channel) { subscriptions_.insert(std::move(channel)); }
  // Called with true when the connection becomes ready and false when it is lost: a subscriber
  // that missed messages while down must assume it missed anything (e.g. flush a near cache).
  void set_state_handler(std::function<void(bool)> handler) { state_handler_ = std::move(handler); }

  // Counts the sockets this connection has had: a reply read on generation g came from the server
  // session g, and only that session's WAIT can say whether the write reached a replica.
  uint64_t generation() const { return generation_; }
  // Replication acknowledgement, grouped: waits until `replicas` replicas have every write this
  // connection sent on socket `generation` up to now, or `timeout` passes; returns how many did.
  // One WAIT is in flight at a time; callers arriving meanwhile share the next one, so a burst of
  // writes costs one WAIT, not one each (WAIT covers all earlier writes of its connection). A
  // socket lost since the write fails with kUnavailable: whether the write replicated is unknown.
  asio::awaitable<Result<int64_t>> wait_replicas(uint64_t generation, int replicas,
                                                 std::chrono::milliseconds timeout);

  // Waits (polling, start-up only) until the connection is ready; kTimeout otherwise.
  asio::awaitable<Result<void>> wait_ready(std::chrono::milliseconds timeout);

  // One command, one reply. A Redis error reply (-ERR ...) is a successful Result holding a
  // Reply of type kError; transport failures are errors (kUnavailable, kTimeout, kProtocol).
  asio::awaitable<Result<Reply>> exec(Command cmd);
  // Any number of commands sent together; all replies in order.
  asio::awaitable<Result<std::vector<Reply>>> exec_all(Command cmd);

  // The raw asynchronous operation. Cancelling it (per-operation cancellation) completes it with
  // operation_aborted at once; its reply is still read and dropped, so the stream stays in step.
  template <class Token>
  auto async_exec(Command cmd, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::vector<Reply>)>(
        [this](auto handler, Command c) { enqueue(std::move(c), Handler(std::move(handler))); },
        token, std::move(cmd));
  }

 private:
  enum class State { kIdle, kConnecting, kReady, kStopped };
  struct ReplicaGroup;
  struct Pending {
    size_t remaining;
    std::vector<Reply> replies;
    Handler handler;  // empty once completed early (cancelled)
    Clock::time_point deadline;
  };

  Connection(asio::any_io_executor ex, Options options);
  void enqueue(Command cmd, Handler handler);
  void flush();
  void arm_watchdog();
  void fail_all(error_code ec);
  void complete_later(Handler handler, error_code ec);
  asio::awaitable<void> run();
  asio::awaitable<error_code> connect_once();
  struct ConnectDeadline;
  // Makes the first alternate host:port, and the node just tried the last alternate.
  void next_endpoint();
  void arm_connect_deadline(std::shared_ptr<ConnectDeadline> deadline);
  asio::awaitable<error_code> connect_and_handshake(
      asio::ip::tcp::resolver::results_type endpoints);
  asio::awaitable<error_code> read_loop();
  Command handshake() const;
  bool deliver_push(Reply& r);
  asio::awaitable<void> replica_waits(std::shared_ptr<Connection> self);
  void report_state(bool ready);

  asio::any_io_executor ex_;
  Options options_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer watchdog_;
  asio::steady_timer backoff_;
  Decoder decoder_;
  State state_ = State::kIdle;
  std::deque<Pending> pending_;
  std::string queued_;   // commands waiting for the next write
  std::string writing_;  // bytes of the write in flight
  bool write_active_ = false;
  bool watchdog_armed_ = false;
  error_code close_reason_;
  // Written only on the owning thread, read from anywhere: relaxed atomics, bumped without a
  // locked instruction.
  struct Counters {
    std::atomic<uint64_t> requests{0}, writes{0}, reconnects{0}, timeouts{0};
  } counters_;
  static uint64_t load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }
  static void bump(std::atomic<uint64_t>& c) { c.store(load(c) + 1, std::memory_order_relaxed); }
  PushHandler push_handler_;
  std::function<void(bool)> state_handler_;
  std::set<std::string> subscriptions_;
  uint64_t generation_ = 0;
  std::shared_ptr<ReplicaGroup> next_wait_;  // callers waiting for the next WAIT
  bool wait_active_ = false;                 // replica_waits() is running
};

}  // namespace surge::redis
