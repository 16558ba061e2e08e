// Accept loops and the per-connection session coroutine.
#include "http/server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <optional>
#include <tuple>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/intrusive/list.hpp>

#include "common/awaitable.h"
#include "http/envelope.h"
#include "http/framing.h"

namespace surge::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

namespace bi = boost::intrusive;
// Lists of sessions linked through their own frames: joining or leaving one per request
// allocates nothing, and a session that ends unlinks itself.
using Hook = bi::list_base_hook<bi::link_mode<bi::auto_unlink>>;
template <typename T>
using HookedList = bi::list<T, bi::constant_time_size<false>>;

// A connection waiting for its next request: the sweep ends its wait after the idle timeout,
// drain() at once.
struct IdleEntry : Hook {
  tcp::socket* socket = nullptr;
  uint64_t since = 0;  // the worker's sweep count when the wait began
};

// A request being handled, on a connection with nothing more buffered (see Worker::watch).
struct WatchEntry : Hook {
  tcp::socket* socket = nullptr;
  asio::cancellation_signal* signal = nullptr;
  uint64_t since = 0;  // the worker's sweep count when the request started
};

// How often a worker looks for clients gone while their requests are handled, and for
// connections idle too long.
constexpr auto kWatchPeriod = std::chrono::milliseconds(100);

// Whether the peer has closed or reset the connection. Readable bytes are the next pipelined
// request, not a close (which they may hide; it is then seen at the next read).
bool client_gone(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return n == 0;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace

// Per-worker state; touched only on that worker's thread (except `ctx`).
struct Server::Worker {
  size_t index;
  asio::io_context& ctx;
  std::atomic<size_t>& abandoned;
  tcp::acceptor acceptor;
  HookedList<IdleEntry> idle;      // oldest first
  HookedList<WatchEntry> watched;  // oldest first
  asio::steady_timer sweep;        // pending while either list is not empty
  bool sweeping = false;
  uint64_t sweeps = 0;
  uint64_t idle_sweeps;  // sweeps an idle wait outlasts before it ends (the idle timeout)

  Worker(size_t i, asio::io_context& c, std::atomic<size_t>& a,
         std::chrono::milliseconds idle_timeout)
      : index(i),
        ctx(c),
        abandoned(a),
        acceptor(c),
        sweep(c),
        idle_sweeps(std::max<uint64_t>(
            1, (idle_timeout + kWatchPeriod - std::chrono::milliseconds(1)) / kWatchPeriod)) {}

  // A connection waiting for its next request. Its idle timeout is this sweep's too, not a
  // timer per wait (armed and cancelled around every request: 7% of a hot read's CPU).
  // The wait ends between the timeout and one period after it, never before: more than
  // `idle_sweeps` sweeps must pass, and the first came less than a period after it began.
  void wait_idle(IdleEntry& e) {
    e.since = sweeps;
    idle.push_back(e);
    start_sweeping();
  }

  // A client that goes away while its request is handled cannot read the answer, so the
  // session's coroutine is cancelled (terminal): work the handler has not started, such as a
  // queued database job, is dropped, and a Redis command in flight completes at once.
  // Checked by a sweep every kWatchPeriod, and only for requests older than a full period, not
  // by a poller registration per request: that cost an `epoll_ctl` and a cancel on every
  // request that waits for a store (about 6% of a purchase's CPU), to notice, for nearly none
  // of them, a close that only matters to requests slow enough to be seen by the sweep. The
  // entry unlinks itself when its request ends.
  void watch(WatchEntry& e) {
    e.since = sweeps;
    watched.push_back(e);
    start_sweeping();
  }

 private:
  void start_sweeping() {
    if (sweeping) return;
    sweeping = true;
    schedule_sweep();
  }

  void schedule_sweep() {
    sweep.expires_after(kWatchPeriod);
    sweep.async_wait([this](error_code ec) {
      if (ec) return;  // the worker is being destroyed
      ++sweeps;
      for (auto it = watched.begin(); it != watched.end();) {
        WatchEntry& e = *it++;
        if (e.since + 1 >= sweeps) break;  // this one and all after it are younger
        if (!client_gone(*e.socket)) continue;
        e.unlink();
        ++abandoned;
        e.signal->emit(asio::cancellation_type::terminal);
      }
      while (!idle.empty() && sweeps - idle.front().since > idle_sweeps) {
        IdleEntry& e = idle.front();
        e.unlink();
        error_code ignored;
        e.socket->cancel(ignored);  // the session's read ends, and it closes the connection
      }
      sweeping = !watched.empty() || !idle.empty();
      if (sweeping) schedule_sweep();
    });
  }
};

namespace {

// Connections accepted per scheduler turn of a worker's accept loop (see accept_loop).
constexpr int kAcceptBatch = 64;

// RFC 9110 Date, rebuilt at most once a second per thread.
std::string_view http_date() {
  thread_local std::time_t last = 0;
  thread_local char buf[40];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm tm;
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return {buf, len};
}

// An answer's header. Written by hand rather than through Beast's fields container, which
// allocates a node per field: every answer carries the same five or six fields, and this is
// on the path of every request. `version` is the request's (10 or 11), as Beast numbers it.
void append_head(std::string& out, unsigned status, unsigned version, std::string_view server,
                 std::string_view content_type, size_t length, bool keep_alive) {
  auto number = [&out](size_t v) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
  };
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  number(status);
  out += ' ';
  out += bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  out += "\r\nServer: ";
  out += server;
  out += "\r\nDate: ";
  out += http_date();
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  number(length);
  out += "\r\n";
  // HTTP/1.1 keeps a connection by default and HTTP/1.0 closes it: say so only when it differs.
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

// Status and message for a request that could not be parsed; nullopt means just close.
std::optional<Failure> parse_failure(const error_code& ec, bool header_done) {
  using he = bhttp::error;
  if (ec == he::end_of_stream) return std::nullopt;  // the client closed between requests
  if (ec == he::header_limit) return Failure{431u, "request header too large"};
  // The read buffer filled up without a complete element: before the header is done that is
  // the header (header_limit fires first), after it a chunk-size line or the trailer section.
  if (ec == he::buffer_overflow) {
    return header_done ? Failure{431u, "chunk header or trailer too large"}
                       : Failure{431u, "request header too large"};
  }
  if (ec == he::body_limit) return Failure{413u, "request body too large"};
  if (ec == beast::error::timeout) return Failure{408u, "request timed out"};
  if (ec.category() == bhttp::make_error_code(he::bad_method).category()) {
    return Failure{400u, "malformed HTTP request"};
  }
  return std::nullopt;
}

}  // namespace

uint64_t raise_open_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlim_t before = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) lim.rlim_cur = before;
  }
  return lim.rlim_cur;
}

Server::Server(std::vector<asio::io_context*> workers, const Router& router, Metrics& metrics,
               ServerOptions options)
    : router_(router), metrics_(metrics), options_(std::move(options)) {
  options_.buffer_limit =
      std::max({options_.buffer_limit, options_.header_limit + 1024, size_t{4096}});
  options_.max_connections = std::max<size_t>(options_.max_connections, 1);
  for (size_t i = 0; i < workers.size(); ++i) {
    workers_.push_back(std::make_unique<Worker>(i, *workers[i], abandoned_, options_.idle_timeout));
  }
}

Server::~Server() = default;

Result<void> Server::listen() {
  error_code ec;
  auto address = asio::ip::make_address(options_.address, ec);
  if (ec) {
    spdlog::error("http: bad listen address '{}'", options_.address);
    return Errc::kInvalidArgument;
  }
  uint16_t port = options_.port;
  for (auto& w : workers_) {
    tcp::endpoint ep(address, port);
    auto& a = w->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) {
      // Every worker binds the same port; the kernel spreads new connections across them.
      using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
      a.set_option(reuse_port(true), ec);
    }
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) a.non_blocking(true, ec);  // accept_loop drains the backlog in batches
    if (ec) {
      spdlog::error("http: cannot listen on {}:{}: {}", options_.address, port, ec.message());
      return Errc::kUnavailable;
    }
    port = a.local_endpoint().port();  // port 0: the first worker picks, the rest follow
  }
  bound_port_ = port;
  uint64_t files = raise_open_file_limit();
  spdlog::info("http: open-file limit {}, at most {} connections", files, options_.max_connections);
  if (files < options_.max_connections + 256) {
    spdlog::warn(
        "http: the open-file limit {} is below --max-connections {} plus store "
        "connections; accepts may fail before the cap answers 503",
        files, options_.max_connections);
  }
  for (auto& w : workers_) {
    asio::co_spawn(w->ctx, accept_loop(*w), asio::detached);
  }
  return {};
}

void Server::drain() {
  draining_ = true;
  for (auto& w : workers_) {
    asio::post(w->ctx, [w = w.get()] {
      error_code ignored;
      w->acceptor.close(ignored);
      for (auto& e : w->idle) e.socket->close(ignored);
    });
  }
}

asio::awaitable<void> Server::accept_loop(Worker& w) {
  while (!draining_) {
    auto [ec, socket] = co_await w.acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      // Out of descriptors and the like: back off briefly instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer t(w.ctx, std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    admit(w, std::move(socket));
    // Then whatever else the backlog holds, without a trip through the scheduler each. One
    // accept per turn made the N-th of a burst of connections wait behind N turns of every
    // open connection's work: its first request, already sent, aged by hundreds of ms (the
    // benchmark's max latency at 1,000-2,000 connections). The batch is bounded so a connection
    // flood cannot starve the requests of connections already open.
    for (int i = 1; i < kAcceptBatch && !draining_; ++i) {
      tcp::socket more(w.ctx);
      w.acceptor.accept(more, ec);  // the acceptor is non-blocking: would_block ends the batch
      if (ec) break;
      admit(w, std::move(more));
    }
  }
}

void Server::admit(Worker& w, tcp::socket socket) {
  if (open_.load() >= options_.max_connections) {
    ++refused_;
    // A flood of refusals must not hold descriptors either: past a few in flight, just close.
    if (refusing_.load() >= 64) return;
    ++refusing_;
    asio::co_spawn(w.ctx, refuse(w, std::move(socket)),
                   [this](std::exception_ptr) { --refusing_; });
    return;
  }
  ++open_;
  // The session's cancellation signal (see Worker::watch). The spawned coroutine refers to it
  // until it has unwound, which finishes after the completion handler runs: released a turn
  // later.
  auto cancel = std::make_shared<asio::cancellation_signal>();
  auto& signal = *cancel;
  asio::co_spawn(
      w.ctx, session(w, std::move(socket), signal),
      asio::bind_cancellation_slot(signal.slot(), [this, &w, cancel](std::exception_ptr e) {
        asio::post(w.ctx, [cancel] {});
        --open_;
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("http: session ended by exception: {}", ex.what());
        }
      }));
}

asio::awaitable<Response> Server::dispatch(Worker& w, const Request& req,
                                           asio::ip::address remote) {
  auto started = std::chrono::steady_clock::now();
  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  // HEAD is GET without the body (the session writes only the header).
  auto verb = req.method() == bhttp::verb::head ? bhttp::verb::get : req.method();
  auto m = router_.match(verb, path);
  size_t route_id = metrics_.unmatched_route();
  Response res;
  if (!m.route) {
    res = m.path_known ? json(405, envelope::fail("method not allowed"))
                       : json(404, envelope::fail("no such route"));
  } else {
    route_id = m.route->id;
    Context ctx{req, path, query, m.params, w.index, remote};
    try {
      res = co_await m.route->handler(ctx);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} threw: {}", req.method_string(), path, e.what());
      res = json(500, envelope::fail("服务器异常"));
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.record(w.index, route_id, res.status, seconds);
  co_return res;
}

namespace {

// An answer to a request that could not be taken (or a connection refused), closing after.
std::string failure_answer(const ServerOptions& o, Failure f) {
  std::string body = envelope::fail(f.second);
  std::string out;
  append_head(out, f.first, 11, o.server_name, "application/json;charset=UTF-8", body.size(),
              false);
  return out + body;
}

// Closes after an error answer without resetting it away: a close with unread input sends RST,
// which can destroy the answer in the client's receive queue. So stop sending, then read and
// discard for a short, bounded while (nginx's lingering close) before closing.
asio::awaitable<void> linger_close(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::milliseconds(500));
  std::array<char, 4096> sink;
  size_t discarded = 0;
  while (discarded < 1024 * 1024) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
    discarded += n;
  }
  stream.close();
}

}  // namespace

asio::awaitable<void> Server::refuse(Worker& w, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto answer = failure_answer(options_, {503u, "too many connections"});
  stream.expires_after(std::chrono::milliseconds(1000));
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(answer), kTuple);
  metrics_.record(w.index, metrics_.unmatched_route(), 503, 0);
  if (!ec) co_await linger_close(stream);
}

asio::awaitable<void> Server::session(Worker& w, tcp::socket socket,
                                      asio::cancellation_signal& cancel) {
  // A cancellation (the client went away) shows as errors of the operations it reaches; it
  // must not throw out of every later co_await of the request's coroutines.
  co_await asio::this_coro::throw_if_cancelled(false);
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  // Answers are first written without waiting (see below); asynchronous operations are unaffected.
  socket.non_blocking(true, ec);
  auto remote = socket.remote_endpoint(ec).address();
  beast::tcp_stream stream(std::move(socket));
  // Bounded: Beast keeps an incomplete chunk-size line or trailer section here, not in the body.
  beast::flat_buffer buffer(options_.buffer_limit);
  std::string head;  // each answer's header, written here (the buffer is kept between answers)
  WatchEntry watched;
  watched.socket = &stream.socket();
  watched.signal = &cancel;
  bool keep_alive = true;
  while (keep_alive && !draining_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(options_.body_limit);

    // Phase 1, idle: wait for the first bytes of the next request under the idle timeout. Only
    // a connection in this phase is closed by drain(); one mid-request never is.
    // On the socket itself: the stream's deadline would arm a timer per wait (see wait_idle).
    if (buffer.size() == 0) {
      IdleEntry idle;
      idle.socket = &stream.socket();
      w.wait_idle(idle);
      auto [iec, got] = co_await stream.socket().async_read_some(buffer.prepare(4096), kTuple);
      idle.unlink();
      if (iec) break;  // closed, idle too long, or drained: nothing to answer
      buffer.commit(got);
    }
    // Phase 2, started. What is buffered is parsed first: a request that arrived whole (most
    // do) needs no deadline timer and no read, so no timer is armed and cancelled and no turn
    // of the scheduler passes. Not eager: the parser stops after the header, so its framing is
    // checked before a body byte is taken as body.
    error_code rec;
    size_t n = 0;
    if (buffer.size() > 0) {
      n = parser.put(buffer.data(), rec);
      buffer.consume(n);
      if (rec == bhttp::error::need_more) rec = {};
    }
    std::optional<Failure> failure;
    bool framing_checked = false;
    if (!rec && parser.is_header_done()) {
      failure = framing_failure(parser.get());
      framing_checked = true;
    }
    if (!rec && !failure && !parser.is_done()) {
      // The rest must arrive within io_timeout. Our own timer cancels the read instead of
      // closing the socket (as the stream's deadline would), so a 408 can still be written.
      asio::steady_timer deadline(w.ctx, options_.io_timeout);
      bool timed_out = false;
      deadline.async_wait([&stream, &timed_out](error_code ec) {
        if (ec) return;  // cancelled: the read finished first (captures may be gone by now)
        timed_out = true;
        error_code ignored;
        stream.socket().cancel(ignored);
      });
      if (!parser.is_header_done()) {
        std::tie(rec, n) = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      }
      if (!rec && !framing_checked) failure = framing_failure(parser.get());
      if (!rec && !failure && !parser.is_done()) {
        std::tie(rec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      }
      deadline.cancel();
      if (timed_out) rec = beast::error::timeout;
    }
    if (rec) {
      failure = parse_failure(rec, parser.is_header_done());
      if (!failure) break;
    }
    if (failure) {
      auto answer = failure_answer(options_, *failure);
      stream.expires_after(options_.io_timeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(answer), kTuple);
      metrics_.record(w.index, metrics_.unmatched_route(), failure->first, 0);
      if (!wec) co_await linger_close(stream);
      break;
    }

    const Request& req = parser.get();
    if (buffer.size() == 0) w.watch(watched);
    Response r = co_await dispatch(w, req, remote);
    watched.unlink();
    keep_alive = req.keep_alive() && !r.close && !draining_;

    // For HEAD too Content-Length says what GET would send; the body is left out.
    head.clear();
    append_head(head, r.status, req.version(), options_.server_name, r.content_type, r.body.size(),
                keep_alive);
    bool head_only = req.method() == bhttp::verb::head;
    std::array<asio::const_buffer, 2> parts{
        asio::buffer(head), asio::buffer(r.body.data(), head_only ? 0 : r.body.size())};
    // Written at once while the socket takes it (an answer usually fits its send buffer): no
    // write timeout armed and cancelled, no turn of the scheduler. What does not fit goes out
    // asynchronously under io_timeout.
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> unsent(parts);
    error_code wec;
    while (!wec && beast::buffer_bytes(unsent) > 0) {
      unsent.consume(stream.socket().write_some(unsent, wec));
    }
    if (wec == asio::error::would_block || wec == asio::error::try_again) {
      stream.expires_after(options_.io_timeout);
      std::tie(wec, n) = co_await asio::async_write(stream, unsent, kTuple);
      stream.expires_never();  // the stream's deadline is for this write only
    }
    if (wec) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

}  // namespace surge::http
