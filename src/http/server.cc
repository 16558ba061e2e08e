// Accept loops and the per-connection session coroutine.
#include "http/server.h"

#include <ctime>
#include <list>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/envelope.h"

namespace surge::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Per-worker state; touched only on that worker's thread (except `ctx`).
struct Server::Worker {
  size_t index;
  asio::io_context& ctx;
  tcp::acceptor acceptor;
  // Sockets of connections waiting for their next request; drain() closes these.
  std::list<tcp::socket*> idle;
  Worker(size_t i, asio::io_context& c) : index(i), ctx(c), acceptor(c) {}
};

namespace {

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

// Status and message for a request that could not be parsed; nullopt means just close.
std::optional<std::pair<unsigned, std::string_view>> parse_failure(const error_code& ec) {
  using he = bhttp::error;
  if (ec == he::end_of_stream) return std::nullopt;  // the client closed between requests
  if (ec == he::header_limit) return std::pair{431u, "request header too large"};
  if (ec == he::body_limit || ec == he::buffer_overflow)
    return std::pair{413u, "request body too large"};
  if (ec == beast::error::timeout) return std::pair{408u, "request timed out"};
  if (ec.category() == bhttp::make_error_code(he::bad_method).category()) {
    return std::pair{400u, "malformed HTTP request"};
  }
  return std::nullopt;
}

}  // namespace

Server::Server(std::vector<asio::io_context*> workers, const Router& router, Metrics& metrics,
               ServerOptions options)
    : router_(router), metrics_(metrics), options_(std::move(options)) {
  for (size_t i = 0; i < workers.size(); ++i) {
    workers_.push_back(std::make_unique<Worker>(i, *workers[i]));
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
    if (ec) {
      spdlog::error("http: cannot listen on {}:{}: {}", options_.address, port, ec.message());
      return Errc::kUnavailable;
    }
    port = a.local_endpoint().port();  // port 0: the first worker picks, the rest follow
  }
  bound_port_ = port;
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
      for (tcp::socket* s : w->idle) s->close(ignored);
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
    ++open_;
    asio::co_spawn(w.ctx, session(w, std::move(socket)), [this](std::exception_ptr e) {
      --open_;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http: session ended by exception: {}", ex.what());
      }
    });
  }
}

asio::awaitable<Response> Server::dispatch(Worker& w, const Request& req,
                                           asio::ip::address remote) {
  auto started = std::chrono::steady_clock::now();
  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  auto m = router_.match(req.method(), path);
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

asio::awaitable<void> Server::session(Worker& w, tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto remote = socket.remote_endpoint(ec).address();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool keep_alive = true;
  while (keep_alive && !draining_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(options_.body_limit);

    // Phase 1, idle: wait for the first bytes of the next request under the idle timeout. Only
    // a connection in this phase is closed by drain(); one mid-request never is.
    if (buffer.size() == 0) {
      stream.expires_after(options_.idle_timeout);
      auto idle_pos = w.idle.insert(w.idle.end(), &stream.socket());
      auto [iec, got] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      w.idle.erase(idle_pos);
      if (iec) break;  // closed, idle too long, or drained: nothing to answer
      buffer.commit(got);
    }
    // Phase 2, started: the whole request must arrive within io_timeout. Our own timer cancels
    // the read instead of closing the socket (as the stream's deadline would), so a 408 can
    // still be written.
    stream.expires_never();
    asio::steady_timer deadline(w.ctx, options_.io_timeout);
    bool timed_out = false;
    deadline.async_wait([&stream, &timed_out](error_code ec) {
      if (ec) return;  // cancelled: the read finished first (captures may be gone by now)
      timed_out = true;
      error_code ignored;
      stream.socket().cancel(ignored);
    });
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    deadline.cancel();
    if (timed_out) rec = beast::error::timeout;
    if (rec) {
      auto failure = parse_failure(rec);
      if (!failure) break;
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(failure->first), 11};
      res.set(bhttp::field::server, options_.server_name);
      res.set(bhttp::field::date, http_date());
      res.set(bhttp::field::content_type, "application/json;charset=UTF-8");
      res.set(bhttp::field::connection, "close");
      res.body() = envelope::fail(failure->second);
      res.prepare_payload();
      stream.expires_after(options_.io_timeout);
      co_await bhttp::async_write(stream, res, kTuple);
      metrics_.record(w.index, metrics_.unmatched_route(), failure->first, 0);
      break;
    }

    const Request& req = parser.get();
    stream.expires_never();
    Response r = co_await dispatch(w, req, remote);
    keep_alive = req.keep_alive() && !r.close && !draining_;

    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    res.set(bhttp::field::server, options_.server_name);
    res.set(bhttp::field::date, http_date());
    res.set(bhttp::field::content_type, r.content_type);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(options_.io_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (wec) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

}  // namespace surge::http
