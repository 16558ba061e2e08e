// The multiplexed connection: FIFO of pending requests, coalesced writes, a decoding read loop,
// a watchdog for stalled servers, and reconnection with backoff.
#include "redis/connection.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/awaitable.h"
#include "common/backoff.h"

namespace surge::redis {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

// A cancelled command (its caller's client went away) reads as the caller's own error, not as
// a fault of Redis.
error_code caller_error(error_code ec) {
  return ec == asio::error::operation_aborted ? make_error_code(Errc::kCancelled) : ec;
}

}  // namespace

std::shared_ptr<Connection> Connection::create(asio::any_io_executor ex, Options options) {
  return std::shared_ptr<Connection>(new Connection(std::move(ex), std::move(options)));
}

Connection::Connection(asio::any_io_executor ex, Options options)
    : ex_(ex), options_(std::move(options)), socket_(ex), watchdog_(ex), backoff_(ex) {}

Connection::~Connection() = default;

void Connection::start() {
  if (state_ != State::kIdle) return;
  state_ = State::kConnecting;
  asio::co_spawn(
      ex_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void Connection::stop() {
  if (state_ == State::kStopped) return;
  state_ = State::kStopped;
  close_reason_ = Errc::kShuttingDown;
  error_code ignored;
  socket_.close(ignored);
  backoff_.cancel();
  watchdog_.cancel();
  fail_all(Errc::kShuttingDown);
}

asio::awaitable<Result<void>> Connection::wait_ready(std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  asio::steady_timer timer(ex_);
  while (!connected()) {
    if (state_ == State::kStopped) co_return Errc::kShuttingDown;
    if (Clock::now() >= until) co_return Errc::kTimeout;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(kTuple);
  }
  co_return Result<void>{};
}

asio::awaitable<Result<Reply>> Connection::exec(Command cmd) {
  auto [ec, replies] = co_await async_exec(std::move(cmd), kTuple);
  if (ec) co_return caller_error(ec);
  if (replies.empty()) co_return Errc::kInternal;
  co_return std::move(replies.back());
}

asio::awaitable<Result<std::vector<Reply>>> Connection::exec_all(Command cmd) {
  auto [ec, replies] = co_await async_exec(std::move(cmd), kTuple);
  if (ec) co_return caller_error(ec);
  co_return std::move(replies);
}

void Connection::complete_later(Handler handler, error_code ec) {
  asio::post(ex_,
             [h = std::move(handler), ec]() mutable { std::move(h)(ec, std::vector<Reply>{}); });
}

void Connection::enqueue(Command cmd, Handler handler) {
  if (state_ != State::kReady || cmd.empty()) {
    complete_later(std::move(handler), state_ == State::kStopped ? Errc::kShuttingDown
                                       : cmd.empty()             ? Errc::kInvalidArgument
                                                                 : Errc::kUnavailable);
    return;
  }
  bump(counters_.requests);
  auto& p = pending_.emplace_back(
      Pending{cmd.reply_count(), {}, std::move(handler), Clock::now() + options_.request_timeout});
  p.replies.reserve(cmd.reply_count());
  // Deque growth at the ends never moves existing elements, so &p stays valid until popped.
  auto slot = p.handler.get_cancellation_slot();
  if (slot.is_connected()) {
    Pending* entry = &p;
    slot.assign([this, entry](asio::cancellation_type) {
      if (!entry->handler) return;
      // clear() destroys this very lambda: take what it needs onto the stack first.
      Connection* self = this;
      Handler handler = std::move(entry->handler);
      handler.get_cancellation_slot().clear();
      self->complete_later(std::move(handler), asio::error::operation_aborted);
    });
  }
  queued_.append(cmd.wire());
  flush();
  arm_watchdog();
}

void Connection::flush() {
  if (write_active_ || queued_.empty() || state_ != State::kReady) return;
  write_active_ = true;
  writing_.clear();
  std::swap(writing_, queued_);
  bump(counters_.writes);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](error_code ec, size_t) {
                      self->write_active_ = false;
                      if (ec) {
                        // The read loop notices the closed socket and fails what is pending.
                        if (!self->close_reason_) self->close_reason_ = Errc::kUnavailable;
                        error_code ignored;
                        self->socket_.close(ignored);
                        return;
                      }
                      self->flush();
                    });
}

void Connection::arm_watchdog() {
  if (watchdog_armed_ || pending_.empty()) return;
  watchdog_armed_ = true;
  watchdog_.expires_after(options_.request_timeout / 4 + std::chrono::milliseconds(1));
  watchdog_.async_wait([self = shared_from_this()](error_code ec) {
    self->watchdog_armed_ = false;
    if (ec || self->state_ != State::kReady || self->pending_.empty()) return;
    if (Clock::now() >= self->pending_.front().deadline) {
      spdlog::warn("redis {}:{}: no reply within {} ms; reconnecting", self->options_.host,
                   self->options_.port, self->options_.request_timeout.count());
      bump(self->counters_.timeouts);
      self->close_reason_ = Errc::kTimeout;
      error_code ignored;
      self->socket_.close(ignored);
      return;
    }
    self->arm_watchdog();
  });
}

void Connection::fail_all(error_code ec) {
  // Callers see Surge's vocabulary; socket-level detail (EOF, reset, ...) is in the log.
  if (ec.category() != surge_category()) ec = Errc::kUnavailable;
  auto doomed = std::move(pending_);
  pending_.clear();
  queued_.clear();
  for (auto& p : doomed) {
    if (!p.handler) continue;
    p.handler.get_cancellation_slot().clear();
    complete_later(std::move(p.handler), ec);
  }
}

Command Connection::handshake() const {
  Command c;
  if (!options_.password.empty()) {
    if (options_.user.empty()) {
      c.add("AUTH", options_.password);
    } else {
      c.add("AUTH", options_.user, options_.password);
    }
  }
  if (options_.db != 0) c.add("SELECT", static_cast<int64_t>(options_.db));
  if (!options_.client_name.empty()) c.add("CLIENT", "SETNAME", options_.client_name);
  for (const auto& channel : subscriptions_) c.add("SUBSCRIBE", channel);
  return c;
}

bool Connection::deliver_push(Reply& r) {
  if (!push_handler_ || !r.is_array() || r.elements.size() < 3) return false;
  const std::string& kind = r.elements[0].str;
  if (kind != "message" && kind != "pmessage") return false;
  push_handler_(std::move(r));
  return true;
}

void Connection::report_state(bool ready) {
  if (state_handler_) state_handler_(ready);
}

asio::awaitable<Result<void>> Connection::subscribe(std::string channel) {
  subscriptions_.insert(channel);
  auto cmd = Command::make("SUBSCRIBE", channel);
  auto r = co_await exec(std::move(cmd));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(Errc::kServerError);
  co_return Result<void>{};
}

// The deadline's handler can run after connect_once's frame is gone (its wait may complete in the
// same pass as the last read), so its state lives on the heap, shared, not in the frame.
struct Connection::ConnectDeadline {
  explicit ConnectDeadline(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  bool finished = false;
  bool fired = false;
  bool extended = false;
};

void Connection::arm_connect_deadline(std::shared_ptr<ConnectDeadline> d) {
  d->timer.expires_after(options_.connect_timeout);
  d->timer.async_wait([self = shared_from_this(), d](error_code ec) {
    if (ec || d->finished) return;
    // The handshake's reply and the deadline can become ready in the same pass (a worker busy
    // for a while sees both at once). The reactor may then have read the reply already, its
    // completion queued behind this handler: decide only after that has had its turn.
    asio::post(self->ex_, [self, d] {
      if (d->finished) return;
      // A reply waiting in the socket (not yet read) also arrived in time: one more period.
      error_code avail;
      if (!d->extended && self->socket_.is_open() && self->socket_.available(avail) > 0 && !avail) {
        d->extended = true;
        self->arm_connect_deadline(d);
        return;
      }
      d->fired = true;
      error_code ignored;
      self->socket_.close(ignored);
    });
  });
}

void Connection::next_endpoint() {
  auto& others = options_.alternates;
  if (others.empty()) return;
  Endpoint tried{std::move(options_.host), options_.port};
  options_.host = std::move(others.front().host);
  options_.port = others.front().port;
  others.erase(others.begin());
  others.push_back(std::move(tried));
}

asio::awaitable<error_code> Connection::connect_once() {
  asio::ip::tcp::resolver resolver(ex_);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(options_.host, std::to_string(options_.port), kTuple);
  if (rec) co_return rec;
  if (state_ == State::kStopped) co_return make_error_code(Errc::kShuttingDown);

  // Bound connect + handshake: the timer closes the socket if they have not finished in time.
  auto deadline = std::make_shared<ConnectDeadline>(ex_);
  arm_connect_deadline(deadline);
  error_code ec = co_await connect_and_handshake(std::move(endpoints));
  deadline->finished = true;
  deadline->timer.cancel();
  if (deadline->fired) co_return make_error_code(Errc::kTimeout);
  if (state_ == State::kStopped) {
    // stop() ran while we were connecting: leave no socket behind.
    error_code ignored;
    socket_.close(ignored);
    co_return make_error_code(Errc::kShuttingDown);
  }
  co_return ec;
}

asio::awaitable<error_code> Connection::connect_and_handshake(
    asio::ip::tcp::resolver::results_type endpoints) {
  auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, kTuple);
  if (cec) co_return cec;
  socket_.set_option(asio::ip::tcp::no_delay(true));

  Command hello = handshake();
  if (hello.empty()) co_return error_code{};
  auto [wec, n] = co_await asio::async_write(socket_, asio::buffer(hello.wire()), kTuple);
  if (wec) co_return wec;
  size_t want = hello.reply_count();
  std::string buf(4096, '\0');
  while (want > 0) {
    auto [ec, got] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
    if (ec) co_return ec;
    if (!decoder_.feed(buf.data(), got)) co_return make_error_code(Errc::kProtocol);
    for (;;) {
      auto r = decoder_.next();
      if (!r) co_return r.error();
      if (!*r) break;
      if (deliver_push(**r)) continue;  // a message on a channel renewed a moment ago
      if ((*r)->is_error()) {
        spdlog::error("redis {}:{}: handshake refused: {}", options_.host, options_.port,
                      (*r)->str);
        co_return make_error_code(Errc::kServerError);
      }
      --want;
    }
  }
  co_return error_code{};
}

asio::awaitable<error_code> Connection::read_loop() {
  std::string buf(kReadChunk, '\0');
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
    if (ec) co_return ec;
    if (!decoder_.feed(buf.data(), n)) co_return make_error_code(Errc::kProtocol);
    for (;;) {
      auto r = decoder_.next();
      if (!r) co_return r.error();
      if (!*r) break;
      if (deliver_push(**r)) continue;
      if (pending_.empty()) {
        spdlog::error("redis {}:{}: reply with no request pending: {}", options_.host,
                      options_.port, to_debug_string(**r));
        co_return make_error_code(Errc::kProtocol);
      }
      Pending& front = pending_.front();
      front.replies.push_back(std::move(**r));
      if (--front.remaining > 0) continue;
      Pending done = std::move(front);
      pending_.pop_front();
      if (!done.handler) continue;  // abandoned by its caller; reply dropped
      done.handler.get_cancellation_slot().clear();
      // Runs the waiting coroutine inline, so its next command joins the current batch.
      std::move(done.handler)(error_code{}, std::move(done.replies));
      if (state_ != State::kReady) co_return make_error_code(Errc::kShuttingDown);
    }
  }
}

struct Connection::ReplicaGroup {
  explicit ReplicaGroup(asio::any_io_executor ex) : done(ex) {
    done.expires_at(Clock::time_point::max());  // only cancel() ends a wait
  }
  asio::steady_timer done;
  bool finished = false;
  int replicas = 0;
  std::chrono::milliseconds timeout{0};
  uint64_t generation = 0;  // the socket its WAIT was sent on
  Result<int64_t> acked = make_error_code(Errc::kUnavailable);
};

asio::awaitable<Result<int64_t>> Connection::wait_replicas(uint64_t generation, int replicas,
                                                           std::chrono::milliseconds timeout) {
  if (state_ != State::kReady || generation != generation_) co_return Errc::kUnavailable;
  if (!next_wait_) next_wait_ = std::make_shared<ReplicaGroup>(ex_);
  auto group = next_wait_;
  group->replicas = std::max(group->replicas, replicas);
  group->timeout = std::max(group->timeout, timeout);
  if (!wait_active_) {
    wait_active_ = true;
    asio::co_spawn(ex_, replica_waits(shared_from_this()), asio::detached);
  }
  while (!group->finished) co_await group->done.async_wait(kTuple);
  if (!group->acked) co_return group->acked.error();
  if (group->generation != generation) co_return Errc::kUnavailable;
  co_return *group->acked;
}

// One WAIT at a time; each covers every caller that joined before it was sent.
asio::awaitable<void> Connection::replica_waits(std::shared_ptr<Connection> /*keeps us alive*/) {
  while (next_wait_) {
    auto group = std::move(next_wait_);
    next_wait_.reset();
    group->generation = generation_;
    auto r = co_await exec(
        Command::make("WAIT", group->replicas, static_cast<int64_t>(group->timeout.count())));
    if (!r) {
      group->acked = r.error();
    } else if (auto n = r->as_integer()) {
      group->acked = *n;
    } else {
      group->acked = make_error_code(Errc::kServerError);
    }
    group->finished = true;
    group->done.cancel();
  }
  wait_active_ = false;
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  Backoff delay(options_.reconnect_min, options_.reconnect_max);
  bool was_ready = false;
  while (state_ != State::kStopped) {
    state_ = State::kConnecting;
    close_reason_ = {};
    decoder_.reset();
    error_code ec = co_await connect_once();
    if (!ec && state_ != State::kStopped) {
      state_ = State::kReady;
      ++generation_;
      if (was_ready) bump(counters_.reconnects);
      spdlog::log(was_ready ? spdlog::level::warn : spdlog::level::debug, "redis {}:{}: connected",
                  options_.host, options_.port);
      was_ready = true;
      delay.reset();
      report_state(true);
      ec = co_await read_loop();
      if (close_reason_) ec = close_reason_;
      if (state_ != State::kStopped) report_state(false);
      if (state_ != State::kStopped) {
        spdlog::warn("redis {}:{}: connection lost: {}", options_.host, options_.port,
                     ec.message());
      }
    } else if (state_ != State::kStopped) {
      spdlog::debug("redis {}:{}: connect failed: {}", options_.host, options_.port, ec.message());
      next_endpoint();
    }
    if (state_ == State::kStopped) break;
    state_ = State::kConnecting;
    error_code ignored;
    socket_.close(ignored);
    fail_all(ec ? ec : make_error_code(Errc::kUnavailable));
    backoff_.expires_after(delay.next());
    co_await backoff_.async_wait(kTuple);
  }
  error_code ignored;
  socket_.close(ignored);
  fail_all(Errc::kShuttingDown);
}

}  // namespace surge::redis
