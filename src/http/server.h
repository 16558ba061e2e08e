// The HTTP/1.1 server: one SO_REUSEPORT acceptor per worker io_context, so a connection lives
// and dies on the worker that accepted it; one coroutine per connection reading, routing and
// writing in order (pipelined requests are answered in order), with size limits and timeouts.
// Framing is strict: everything that is not body (start line, headers, chunk-size lines with
// their extensions, trailers) is bounded, and a Transfer-Encoding the server cannot frame with
// certainty is refused and the connection closed, so no body is ever read as a next request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/error.h"
#include "http/metrics.h"
#include "http/router.h"

namespace surge::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8081;
  size_t header_limit = 8 * 1024;  // start line + header fields
  size_t body_limit = 1024 * 1024;
  // Unparsed bytes held per connection. Beast keeps a chunk-size line with its extensions, or
  // the whole trailer section, in this buffer until it is complete, so this bounds them (431
  // past it). Raised to at least header_limit + 1 KiB.
  size_t buffer_limit = 16 * 1024;
  // Open connections across all workers; one more is answered 503 and closed.
  size_t max_connections = 10'000;
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive connection with no request
  std::chrono::milliseconds io_timeout{10'000};    // a started request or a response write
  std::string server_name = "surge";
};

// Borrows the workers, router and metrics, which must outlive it. listen() and the drain calls
// are made from the main thread; everything else runs on the workers.
class Server {
 public:
  Server(std::vector<asio::io_context*> workers, const Router& router, Metrics& metrics,
         ServerOptions options);
  ~Server();

  // Binds every worker's acceptor; fails (kUnavailable) if the port cannot be bound.
  Result<void> listen();
  uint16_t port() const { return bound_port_; }

  // Graceful shutdown, step 1: stop accepting, close idle keep-alive connections, and make busy
  // ones close after their current response.
  void drain();
  size_t open_connections() const { return open_.load(); }
  // Connections answered 503 because max_connections were open.
  size_t refused_connections() const { return refused_.load(); }
  // Requests whose client closed the connection while they were being handled (cancelled).
  size_t abandoned_requests() const { return abandoned_.load(); }

 private:
  struct Worker;
  asio::awaitable<void> accept_loop(Worker& w);
  // Starts a session for an accepted connection, or refuses it past max_connections.
  void admit(Worker& w, asio::ip::tcp::socket socket);
  asio::awaitable<void> session(Worker& w, asio::ip::tcp::socket socket,
                                asio::cancellation_signal& cancel);
  asio::awaitable<void> refuse(Worker& w, asio::ip::tcp::socket socket);
  asio::awaitable<Response> dispatch(Worker& w, const Request& req, asio::ip::address remote);

  const Router& router_;
  Metrics& metrics_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> open_{0};
  std::atomic<size_t> refused_{0};
  std::atomic<size_t> abandoned_{0};
  std::atomic<size_t> refusing_{0};  // 503s being written right now
  std::atomic<bool> draining_{false};
  uint16_t bound_port_ = 0;
};

// Raises the soft open-file limit to the hard one (each connection is a descriptor) and
// returns the limit now in force.
uint64_t raise_open_file_limit();

}  // namespace surge::http
