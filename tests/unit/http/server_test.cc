// The HTTP server in-process on two io_contexts: routing, keep-alive, pipelining, limits,
// framing floods, smuggling, HEAD, the connection cap, malformed input, handler failures, timeouts
// and draining, seen from a real TCP client.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>

#include "http/envelope.h"
#include "support/processes.h"

namespace surge::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

asio::awaitable<Response> echo(Context& ctx) {
  co_return json(200, envelope::ok(boost::json::value(std::string(ctx.params[0]))));
}

asio::awaitable<Response> body_size(Context& ctx) {
  co_return json(200, envelope::ok(boost::json::value(ctx.request.body().size())));
}

asio::awaitable<Response> worker_index(Context& ctx) {
  co_return json(200, envelope::ok(boost::json::value(ctx.worker)));
}

asio::awaitable<Response> query(Context& ctx) {
  auto q = ctx.query_param("q");
  co_return json(200, q ? envelope::ok(boost::json::value(*q)) : envelope::fail("no q"));
}

asio::awaitable<Response> throws_inside(Context&) {
  throw std::runtime_error("boom inside the coroutine");
  co_return json(200, envelope::ok());
}

asio::awaitable<Response> asks_to_close(Context&) {
  Response r = json(200, envelope::ok());
  r.close = true;
  co_return r;
}

// Set while /slow is waiting, so a test can act in the middle of a request.
std::atomic<int> slow_in_flight{0};

asio::awaitable<Response> slow(Context&) {
  ++slow_in_flight;
  asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
  co_await t.async_wait(asio::use_awaitable);
  --slow_in_flight;
  co_return json(200, envelope::ok(boost::json::value("slow")));
}

// /parked waits for an hour unless its coroutine is cancelled; counts both.
std::atomic<int> parked_in_flight{0};
std::atomic<int> parked_cancelled{0};

asio::awaitable<Response> parked(Context&) {
  ++parked_in_flight;
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) ++parked_cancelled;
  --parked_in_flight;
  co_return json(200, envelope::ok(boost::json::value("parked")));
}

struct Reply {
  int status = 0;
  std::string head;  // status line and headers, without the blank line
  std::string body;

  std::string header(std::string_view name) const {
    std::string needle = "\r\n" + std::string(name) + ": ";
    size_t p = head.find(needle);
    if (p == std::string::npos) return "";
    p += needle.size();
    return head.substr(p, head.find("\r\n", p) - p);
  }
};

// Takes one complete response off the front of `data`; nullopt if it is not all there yet.
std::optional<Reply> take_reply(std::string& data) {
  size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos || !data.starts_with("HTTP/")) return std::nullopt;
  Reply r;
  r.head = data.substr(0, end);
  r.status = std::atoi(r.head.substr(9, 3).c_str());
  std::string len = r.header("Content-Length");
  size_t n = len.empty() ? 0 : std::stoul(len);
  if (data.size() < end + 4 + n) return std::nullopt;
  r.body = data.substr(end + 4, n);
  data.erase(0, end + 4 + n);
  return r;
}

std::vector<Reply> take_replies(std::string data) {
  std::vector<Reply> out;
  while (auto r = take_reply(data)) out.push_back(std::move(*r));
  return out;
}

// One TCP connection to 127.0.0.1 that a test drives step by step.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  std::optional<Reply> read_reply(std::chrono::milliseconds timeout = 3000ms) {
    auto until = Clock::now() + timeout;
    for (;;) {
      if (auto r = take_reply(buf_)) return r;
      if (!fill(until)) return std::nullopt;
    }
  }

  // True if the peer closes (EOF or reset) within `timeout`; bytes read meanwhile are kept.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms) {
    auto until = Clock::now() + timeout;
    while (fill(until)) {
    }
    return eof_;
  }

  const std::string& pending() const { return buf_; }

 private:
  // Reads what is available before `until`; false on EOF, error or timeout.
  bool fill(Clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

std::string get(std::string_view path, bool close = false) {
  std::string r = "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n";
}

bool is_failure_envelope(const std::string& body, std::string_view message) {
  return body == envelope::fail(message);
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    names_.push_back("GET /echo/{x}");
    router_.add(bhttp::verb::get, "/echo/{x}", echo);
    names_.push_back("POST /body");
    router_.add(bhttp::verb::post, "/body", body_size);
    names_.push_back("GET /worker");
    router_.add(bhttp::verb::get, "/worker", worker_index);
    names_.push_back("GET /query");
    router_.add(bhttp::verb::get, "/query", query);
    names_.push_back("GET /throw");
    router_.add(bhttp::verb::get, "/throw", throws_inside);
    // Throws before a coroutine even exists: the call itself must be guarded too.
    names_.push_back("GET /throw-early");
    router_.add(bhttp::verb::get, "/throw-early",
                [](Context&) -> asio::awaitable<Response> { throw std::logic_error("early"); });
    names_.push_back("GET /close");
    router_.add(bhttp::verb::get, "/close", asks_to_close);
    names_.push_back("GET /slow");
    router_.add(bhttp::verb::get, "/slow", slow);
    names_.push_back("GET /parked");
    router_.add(bhttp::verb::get, "/parked", parked);
  }

  ~ServerTest() override { stop(); }

  void start(ServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    metrics_ = std::make_unique<Metrics>(2, names_);
    server_ = std::make_unique<Server>(std::vector<asio::io_context*>{&ctx0_, &ctx1_}, router_,
                                       *metrics_, options);
    ASSERT_TRUE(server_->listen());
    ASSERT_NE(server_->port(), 0);
    for (asio::io_context* c : {&ctx0_, &ctx1_}) {
      guards_.push_back(asio::make_work_guard(*c));
      threads_.emplace_back([c] { c->run(); });
    }
  }

  // Drains, waits for every session to end, then stops the workers.
  void stop() {
    if (!server_ || threads_.empty()) return;
    server_->drain();
    wait_for([&] { return server_->open_connections() == 0; }, 3s);
    guards_.clear();
    ctx0_.stop();
    ctx1_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  template <class Pred>
  static bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
    auto until = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  uint16_t port() const { return server_->port(); }

  // The server must still answer a normal request (after some abuse).
  void expect_still_serving() {
    auto [status, body] = test::http_get(port(), "/echo/alive");
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body, R"({"success":true,"data":"alive"})");
  }

  // Destroyed last: sessions still parked in the contexts are torn down after the server.
  asio::io_context ctx0_{1};
  asio::io_context ctx1_{1};
  std::vector<std::string> names_;
  Router router_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Server> server_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, GetAnswersWithEnvelopeAndStandardHeaders) {
  start();
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/echo/hello")));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->head.starts_with("HTTP/1.1 200 OK\r\n")) << r->head;
  EXPECT_EQ(r->body, R"({"success":true,"data":"hello"})");
  EXPECT_EQ(r->header("Content-Type"), "application/json;charset=UTF-8");
  EXPECT_EQ(r->header("Server"), "surge");
  EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_TRUE(std::regex_match(
      r->header("Date"),
      std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)")))
      << r->header("Date");
}

TEST_F(ServerTest, ServerNameIsConfigurable) {
  ServerOptions o;
  o.server_name = "surge-test";
  start(o);
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo/x")));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Server"), "surge-test");
}

TEST_F(ServerTest, QueryStringIsSplitOffAndDecoded) {
  start();
  auto [status, body] = test::http_get(port(), "/query?x=1&q=a%20b+c");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, R"({"success":true,"data":"a b c"})");
  // The query does not take part in routing.
  std::tie(status, body) = test::http_get(port(), "/echo/p?q=1");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, R"({"success":true,"data":"p"})");
}

TEST_F(ServerTest, UnknownRouteIs404Envelope) {
  start();
  auto [status, body] = test::http_get(port(), "/no/such/thing");
  EXPECT_EQ(status, 404);
  EXPECT_TRUE(is_failure_envelope(body, "no such route")) << body;
}

TEST_F(ServerTest, WrongMethodIs405Envelope) {
  start();
  std::string raw =
      test::raw_http(port(), "DELETE /echo/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw;
  EXPECT_EQ(replies[0].status, 405);
  EXPECT_TRUE(is_failure_envelope(replies[0].body, "method not allowed")) << replies[0].body;
}

TEST_F(ServerTest, PostBodyIsDelivered) {
  start();
  std::string body(1000, 'b');
  std::string raw = test::raw_http(
      port(),
      "POST /body HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n" + body);
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw;
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body, R"({"success":true,"data":1000})");
}

TEST_F(ServerTest, ChunkedBodyIsDelivered) {
  start();
  std::string raw = test::raw_http(port(),
                                   "POST /body HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw;
  EXPECT_EQ(replies[0].body, R"({"success":true,"data":8})");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/worker")));
  auto first = c.read_reply();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_NE(first->header("Connection"), "close");
  EXPECT_EQ(server_->open_connections(), 1u);

  ASSERT_TRUE(c.send(get("/worker")));
  auto second = c.read_reply();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  // A connection stays on the worker that accepted it.
  EXPECT_EQ(first->body, second->body);

  ASSERT_TRUE(c.send(get("/echo/third", /*close=*/true)));
  auto third = c.read_reply();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, R"({"success":true,"data":"third"})");
  EXPECT_EQ(third->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  // The first request is the slowest, so answering out of order would show.
  std::string raw =
      test::raw_http(port(), get("/slow") + get("/echo/second") + get("/echo/third", true));
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 3u) << raw;
  EXPECT_EQ(replies[0].body, R"({"success":true,"data":"slow"})");
  EXPECT_EQ(replies[1].body, R"({"success":true,"data":"second"})");
  EXPECT_EQ(replies[2].body, R"({"success":true,"data":"third"})");
  for (const auto& r : replies) EXPECT_EQ(r.status, 200);
}

TEST_F(ServerTest, Http10ClosesAfterOneResponse) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/old HTTP/1.0\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->head.starts_with("HTTP/1.0 200")) << r->head;
  EXPECT_EQ(r->body, R"({"success":true,"data":"old"})");
  EXPECT_TRUE(c.closed_by_peer());
}

// The header the session writes itself: the status line with its reason, then exactly these
// fields; a connection header only where it differs from the version's default.
TEST_F(ServerTest, AnswersCarryTheirFieldsAndAConnectionHeaderOnlyWhenNeeded) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/kept HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  std::string body = R"({"success":true,"data":"kept"})";
  EXPECT_EQ(r->body, body);
  std::vector<std::string> lines;
  for (size_t at = 0; at != std::string::npos;) {
    size_t end = r->head.find("\r\n", at);
    lines.push_back(r->head.substr(at, end == std::string::npos ? end : end - at));
    at = end == std::string::npos ? end : end + 2;
  }
  ASSERT_EQ(lines.size(), 6u) << r->head;
  EXPECT_EQ(lines[0], "HTTP/1.0 200 OK");
  EXPECT_EQ(lines[1], "Server: surge");
  EXPECT_TRUE(lines[2].starts_with("Date: ") && lines[2].ends_with(" GMT")) << lines[2];
  EXPECT_EQ(lines[3], "Content-Type: application/json;charset=UTF-8");
  EXPECT_EQ(lines[4], "Content-Length: " + std::to_string(body.size()));
  EXPECT_EQ(lines[5], "Connection: keep-alive");
  // Kept open as promised: a second request on it is answered, and HTTP/1.1's keep-alive
  // default needs no header.
  ASSERT_TRUE(c.send(get("/echo/next")));
  auto next = c.read_reply();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->head.starts_with("HTTP/1.1 200 OK\r\n")) << next->head;
  EXPECT_EQ(next->header("Connection"), "");
  ASSERT_TRUE(c.send(get("/echo/last", true)));
  auto last = c.read_reply();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, HandlerAskingToCloseClosesConnection) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/close")));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, OversizedHeaderIs431AndCloses) {
  ServerOptions o;
  o.header_limit = 8 * 1024;
  start(o);
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(9 * 1024, 'a') +
                     "\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r) << c.pending();
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(is_failure_envelope(r->body, "request header too large")) << r->body;
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  expect_still_serving();
}

TEST_F(ServerTest, HeaderJustUnderTheLimitIsAccepted) {
  ServerOptions o;
  o.header_limit = 8 * 1024;
  start(o);
  std::string raw = test::raw_http(port(),
                                   "GET /echo/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                   "X-Big: " +
                                       std::string(6 * 1024, 'a') + "\r\n\r\n");
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw.substr(0, 200);
  EXPECT_EQ(replies[0].status, 200);
}

TEST_F(ServerTest, OversizedBodyIs413) {
  ServerOptions o;
  o.body_limit = 1024 * 1024;
  start(o);
  // Declared length alone is enough to refuse; the body is never sent.
  Client c(port());
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 2097152\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r) << c.pending();
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(is_failure_envelope(r->body, "request body too large")) << r->body;
  EXPECT_TRUE(c.closed_by_peer());
  expect_still_serving();
}

TEST_F(ServerTest, BodyExactlyAtTheLimitIsAccepted) {
  ServerOptions o;
  o.body_limit = 64 * 1024;
  start(o);
  std::string raw = test::raw_http(
      port(),
      "POST /body HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 65536\r\n\r\n" +
          std::string(64 * 1024, 'z'));
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw;
  EXPECT_EQ(replies[0].body, R"({"success":true,"data":65536})");
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
  ServerOptions o;
  o.body_limit = 16;
  start(o);
  Client c(port());
  ASSERT_TRUE(
      c.send("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "20\r\n" +
             std::string(32, 'q') + "\r\n0\r\n\r\n"));
  auto r = c.read_reply();
  ASSERT_TRUE(r) << c.pending();
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.closed_by_peer());
}

// A malformed request must get a 400 failure envelope or a closed connection, quickly, and
// leave the server able to serve.
void expect_rejected(uint16_t port, const std::string& bytes, const std::string& what) {
  Client c(port);
  ASSERT_TRUE(c.connected());
  c.send(bytes);
  bool closed = c.closed_by_peer(2500ms);
  EXPECT_TRUE(closed) << what << ": connection left open";
  std::string got = c.pending();
  if (!got.empty()) {
    auto replies = take_replies(got);
    ASSERT_EQ(replies.size(), 1u) << what << ": " << got;
    EXPECT_EQ(replies[0].status, 400) << what << ": " << replies[0].head;
    EXPECT_TRUE(is_failure_envelope(replies[0].body, "malformed HTTP request"))
        << what << ": " << replies[0].body;
  }
}

TEST_F(ServerTest, GarbageBytesAreRejected) {
  ServerOptions o;
  o.io_timeout = 1000ms;
  o.idle_timeout = 1000ms;
  start(o);
  expect_rejected(port(), std::string("\x00\x01GARBAGE\r\n\r\n", 13), "control bytes");
  expect_still_serving();
  expect_rejected(port(), "NOT A REQUEST AT ALL\r\n\r\n", "words");
  expect_still_serving();
  expect_rejected(port(), "GET /echo/x HTTP/1.1\r\nBad Header Line\r\n\r\n", "bad header");
  expect_still_serving();
  expect_rejected(port(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: xyz\r\n\r\n",
                  "bad content-length");
  expect_still_serving();
}

TEST_F(ServerTest, RandomBinaryIsRejected) {
  ServerOptions o;
  o.io_timeout = 1000ms;
  o.idle_timeout = 1000ms;
  start(o);
  std::mt19937 rng(1234);  // fixed seed: the same bytes every run
  for (int round = 0; round < 5; ++round) {
    std::string bytes(512, '\0');
    for (char& ch : bytes) ch = static_cast<char>(rng() & 0xff);
    bytes += "\r\n\r\n";  // so the parser has a complete "header" to reject
    expect_rejected(port(), bytes, "random round " + std::to_string(round));
  }
  expect_still_serving();
}

// Beast accepts only HTTP/1.x start lines; anything else must not reach the router.
TEST_F(ServerTest, UnknownHttpVersionIsRejected) {
  ServerOptions o;
  o.io_timeout = 1000ms;
  o.idle_timeout = 1000ms;
  start(o);
  expect_rejected(port(), "GET /echo/x HTTP/9.9\r\n\r\n", "HTTP/9.9");
  expect_still_serving();
}

// Sends `bytes` from a thread of its own (a flood blocks once the server stops reading) and
// returns the answer read meanwhile; the sender stops at the first failed send.
std::optional<Reply> answer_while_sending(Client& c, std::string bytes) {
  std::thread sender([&c, b = std::move(bytes)] {
    for (size_t at = 0; at < b.size(); at += 64 * 1024) {
      if (!c.send(std::string_view(b).substr(at, 64 * 1024))) return;
    }
  });
  auto r = c.read_reply(5000ms);
  bool closed = c.closed_by_peer(5000ms);
  sender.join();
  if (!closed) return std::nullopt;
  return r;
}

constexpr size_t k32MiB = 32u << 20;
const std::string kChunkedPost =
    "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

// Regression (issue 14): Beast keeps an incomplete chunk-size line or trailer section in the
// read buffer; unbounded, 32 MiB of it was read without an answer until the I/O timeout.
TEST_F(ServerTest, ChunkExtensionFloodIs431AndCloses) {
  start();  // default io_timeout (10 s): the answer must not wait for it
  Client c(port());
  std::string flood = kChunkedPost + "5;ext=";
  flood.append(k32MiB, 'x');
  auto r = answer_while_sending(c, std::move(flood));
  ASSERT_TRUE(r) << c.pending().substr(0, 200);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(is_failure_envelope(r->body, "chunk header or trailer too large")) << r->body;
  EXPECT_EQ(r->header("Connection"), "close");
  expect_still_serving();
}

TEST_F(ServerTest, ChunkSizeDigitFloodIs431AndCloses) {
  start();
  Client c(port());
  std::string flood = kChunkedPost;
  flood.append(k32MiB, '0');  // leading zeros never overflow the size: only length bounds it
  auto r = answer_while_sending(c, std::move(flood));
  ASSERT_TRUE(r) << c.pending().substr(0, 200);
  EXPECT_EQ(r->status, 431);
  expect_still_serving();
}

TEST_F(ServerTest, TrailerFloodIs431AndCloses) {
  start();
  Client c(port());
  std::string flood = kChunkedPost + "5\r\nhello\r\n0\r\n";
  while (flood.size() < k32MiB) flood += "X-Trailer: " + std::string(100, 't') + "\r\n";
  auto r = answer_while_sending(c, std::move(flood));
  ASSERT_TRUE(r) << c.pending().substr(0, 200);
  EXPECT_EQ(r->status, 431);
  expect_still_serving();
}

TEST_F(ServerTest, ChunkExtensionsAndTrailersWithinTheLimitAreAccepted) {
  start();
  std::string raw = test::raw_http(port(),
                                   "POST /body HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "5;name=" +
                                       std::string(2000, 'v') + "\r\nhello\r\n0\r\nX-Sum: " +
                                       std::string(2000, 's') + "\r\n\r\n");
  auto replies = take_replies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw.substr(0, 200);
  EXPECT_EQ(replies[0].body, R"({"success":true,"data":5})");
}

// A request whose framing is ambiguous is refused and the connection closed; its "body" (here a
// second request, as a smuggler would send it) must never be answered.
void expect_refused_framing(uint16_t port, const std::string& head, int status,
                            std::string_view message) {
  std::string smuggled = "GET /echo/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
  std::string bytes = head + "\r\n" + smuggled;
  Client c(port);
  ASSERT_TRUE(c.send(bytes));
  EXPECT_TRUE(c.closed_by_peer()) << head;
  auto replies = take_replies(c.pending());
  ASSERT_EQ(replies.size(), 1u) << head << "\n--- got:\n" << c.pending();
  EXPECT_EQ(replies[0].status, status) << head;
  EXPECT_TRUE(is_failure_envelope(replies[0].body, message)) << head << ": " << replies[0].body;
  EXPECT_EQ(replies[0].header("Connection"), "close") << head;
}

TEST_F(ServerTest, TransferEncodingIsStrict) {
  start();
  const std::string post = "POST /body HTTP/1.1\r\nHost: t\r\n";
  const char* not_last = "chunked must be the final transfer coding, once";
  // chunked not last: Beast alone reads these as body-less requests.
  expect_refused_framing(port(), post + "Transfer-Encoding: chunked, gzip\r\n", 400, not_last);
  expect_refused_framing(port(), post + "Transfer-Encoding: gzip\r\n", 400, not_last);
  expect_refused_framing(port(), post + "Transfer-Encoding: identity\r\n", 400, not_last);
  expect_refused_framing(port(), post + "Transfer-Encoding: chunked, chunked\r\n", 400, not_last);
  // Framed correctly, but with a coding the server cannot undo.
  expect_refused_framing(port(), post + "Transfer-Encoding: gzip, chunked\r\n", 501,
                         "unsupported transfer coding");
  expect_refused_framing(port(), post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                         501, "unsupported transfer coding");
  // Content-Length beside Transfer-Encoding, in the order Beast does not catch itself.
  expect_refused_framing(port(), post + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", 400,
                         "both Content-Length and Transfer-Encoding");
  // HTTP/1.0 has no chunked coding: a 1.0 request carrying it was built to confuse.
  expect_refused_framing(port(), "POST /body HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n",
                         400, "Transfer-Encoding is not allowed in HTTP/1.0");
  expect_still_serving();
}

// The orders Beast refuses on its own stay refused (400, malformed).
TEST_F(ServerTest, ContentLengthWithChunkedIsRefused) {
  start();
  const std::string post = "POST /body HTTP/1.1\r\nHost: t\r\n";
  expect_refused_framing(port(), post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400,
                         "malformed HTTP request");
  expect_refused_framing(port(), post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400,
                         "malformed HTTP request");
}

TEST_F(ServerTest, HeadAnswersWithoutABody) {
  start();
  Client c(port());
  // Pipelined: a body after the HEAD answer would be read as the start of the second answer.
  ASSERT_TRUE(c.send("HEAD /echo/hello HTTP/1.1\r\nHost: t\r\n\r\n" + get("/echo/next", true)));
  EXPECT_TRUE(c.closed_by_peer());
  std::string all = c.pending();
  size_t head_end = all.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << all;
  std::string head = all.substr(0, head_end + 2);  // every header line ends in CRLF
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  // Content-Length is what GET would send.
  EXPECT_NE(
      head.find("\r\nContent-Length: " +
                std::to_string(std::string(R"({"success":true,"data":"hello"})").size()) + "\r\n"),
      std::string::npos)
      << head;
  std::string rest = all.substr(head_end + 4);
  EXPECT_TRUE(rest.starts_with("HTTP/1.1 200 OK\r\n")) << rest;
  auto second = take_replies(rest);
  ASSERT_EQ(second.size(), 1u) << rest;
  EXPECT_EQ(second[0].body, R"({"success":true,"data":"next"})");
}

TEST_F(ServerTest, ConnectionsOverTheCapGet503) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  auto a = std::make_unique<Client>(port());
  Client b(port());
  for (Client* c : {a.get(), &b}) {  // answered, so surely counted
    ASSERT_TRUE(c->send(get("/echo/in")));
    ASSERT_TRUE(c->read_reply());
  }
  ASSERT_EQ(server_->open_connections(), 2u);
  Client third(port());
  ASSERT_TRUE(third.connected());
  third.send(get("/echo/over"));
  EXPECT_TRUE(third.closed_by_peer());
  auto replies = take_replies(third.pending());
  ASSERT_EQ(replies.size(), 1u) << third.pending();
  EXPECT_EQ(replies[0].status, 503);
  EXPECT_TRUE(is_failure_envelope(replies[0].body, "too many connections")) << replies[0].body;
  EXPECT_EQ(server_->refused_connections(), 1u);
  // A slot freed is a slot usable again.
  a.reset();
  ASSERT_TRUE(wait_for([&] { return server_->open_connections() == 1; }, 3000ms));
  expect_still_serving();
  ASSERT_TRUE(b.send(get("/echo/still")));
  auto r = b.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServerLimits, OpenFileLimitIsRaisedToTheHardLimit) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  uint64_t now = raise_open_file_limit();
  EXPECT_EQ(now, lim.rlim_max);
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(lim.rlim_cur, lim.rlim_max);
}

TEST_F(ServerTest, HandlerExceptionIs500Envelope) {
  start();
  for (const char* path : {"/throw", "/throw-early"}) {
    auto [status, body] = test::http_get(port(), path);
    EXPECT_EQ(status, 500) << path;
    EXPECT_EQ(body, "{\"success\":false,\"errorMsg\":\"服务器异常\"}") << path;
  }
  expect_still_serving();
}

TEST_F(ServerTest, ExceptionDoesNotEndKeepAliveConnection) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/throw")));
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  ASSERT_TRUE(c.send(get("/echo/after")));
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"success":true,"data":"after"})");
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  start(o);
  auto started = Clock::now();
  Client c(port());
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.closed_by_peer(3000ms));
  // Not before the timeout (a lower bound, which a slow machine cannot break).
  EXPECT_GE(Clock::now() - started, 150ms);
  EXPECT_TRUE(c.pending().empty()) << c.pending();  // nothing is said to a silent client
  EXPECT_TRUE(wait_for([&] { return server_->open_connections() == 0; }, 1000ms));
}

TEST_F(ServerTest, KeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  start(o);
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo/x")));
  ASSERT_TRUE(c.read_reply());
  EXPECT_TRUE(c.closed_by_peer(3000ms));
}

// Regression: a stalled request is answered 408 before the close (the stream's own deadline
// would close the socket first, so the server times requests with a timer of its own).
TEST_F(ServerTest, StalledRequestGets408) {
  ServerOptions o;
  o.idle_timeout = 300ms;
  o.io_timeout = 300ms;
  start(o);
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/x HTTP/1.1\r\nHost: t\r\n"));  // never finished
  auto r = c.read_reply(3000ms);
  ASSERT_TRUE(r) << c.pending();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(is_failure_envelope(r->body, "request timed out")) << r->body;
  EXPECT_TRUE(c.closed_by_peer());
}

// Regression: io_timeout, not idle_timeout, bounds a request once its first bytes arrived.
TEST_F(ServerTest, StartedRequestIsBoundByIoTimeoutNotIdleTimeout) {
  // The idle timeout lies far beyond the wait, so only the I/O timeout can close it in time.
  ServerOptions o;
  o.idle_timeout = 600s;
  o.io_timeout = 200ms;
  start(o);
  Client c(port());
  ASSERT_TRUE(c.send("GET /echo/x HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(c.closed_by_peer(10000ms)) << "the idle timeout, not the I/O timeout, applied";
}

TEST_F(ServerTest, DrainClosesIdleConnectionsAndRefusesNewOnes) {
  start();
  Client c(port());
  ASSERT_TRUE(c.send(get("/echo/x")));
  ASSERT_TRUE(c.read_reply());
  Client idle(port());  // connected, never sends
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(wait_for([&] { return server_->open_connections() == 2; }, 1000ms));

  server_->drain();
  EXPECT_TRUE(c.closed_by_peer(2000ms));
  EXPECT_TRUE(idle.closed_by_peer(2000ms));
  EXPECT_TRUE(wait_for([&] { return server_->open_connections() == 0; }, 2000ms))
      << server_->open_connections();
  EXPECT_TRUE(wait_for([&] { return !Client(port()).connected(); }, 2000ms))
      << "still accepting after drain";
}

TEST_F(ServerTest, DrainLetsABusyRequestFinish) {
  start();
  slow_in_flight = 0;
  Client c(port());
  ASSERT_TRUE(c.send(get("/slow")));
  ASSERT_TRUE(wait_for([] { return slow_in_flight.load() == 1; }, 2000ms));
  server_->drain();
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"success":true,"data":"slow"})");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(wait_for([&] { return server_->open_connections() == 0; }, 2000ms));
}

TEST_F(ServerTest, ManyConnectionsAllAnswered) {
  start();
  constexpr int kClients = 8;
  constexpr int kEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      Client c(port());
      for (int j = 0; j < kEach; ++j) {
        std::string tag = std::to_string(i) + "-" + std::to_string(j);
        if (!c.send(get("/echo/" + tag))) return;
        auto r = c.read_reply();
        if (r && r->body == R"({"success":true,"data":")" + tag + "\"}") ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kEach);
  EXPECT_TRUE(wait_for([&] { return server_->open_connections() == 0; }, 2000ms))
      << server_->open_connections();
}

TEST_F(ServerTest, RequestsAreCountedInMetrics) {
  start();
  test::http_get(port(), "/echo/a");
  test::http_get(port(), "/echo/b");
  test::http_get(port(), "/nope");
  test::http_get(port(), "/throw");
  std::string out = metrics_->render();
  EXPECT_NE(out.find(R"(surge_http_requests_total{route="GET /echo/{x}",code="2xx"} 2)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"(surge_http_requests_total{route="unmatched",code="4xx"} 1)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"(surge_http_requests_total{route="GET /throw",code="5xx"} 1)"),
            std::string::npos)
      << out;
}

TEST(ServerListen, FailsOnABadAddress) {
  Router router;
  Metrics m(1, {});
  asio::io_context ctx;
  ServerOptions o;
  o.address = "not-an-address";
  o.port = 0;
  Server server({&ctx}, router, m, o);
  EXPECT_FALSE(server.listen());
}

TEST(ServerListen, FailsOnAPortHeldByAnotherListener) {
  // A listener without SO_REUSEPORT keeps the port to itself.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  Router router;
  Metrics m(1, {});
  asio::io_context ctx;
  ServerOptions o;
  o.address = "127.0.0.1";
  o.port = ntohs(addr.sin_port);
  Server server({&ctx}, router, m, o);
  auto r = server.listen();
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kUnavailable));
}

// A client that goes away while its request is handled cancels the handler's coroutine: what it
// waits for (here a timer; in the service a queued database job or a Redis reply) ends at once
// instead of being done for nobody. A client that stays is never cancelled (every other test).
TEST_F(ServerTest, AClientThatClosesMidRequestCancelsTheHandler) {
  start();
  int cancelled_before = parked_cancelled;
  {
    Client c(port());
    ASSERT_TRUE(c.send(get("/parked")));
    ASSERT_TRUE(wait_for([] { return parked_in_flight == 1; }, 3s));
  }  // closed
  EXPECT_TRUE(wait_for([] { return parked_in_flight == 0; }, 5s));
  EXPECT_EQ(parked_cancelled, cancelled_before + 1);
  EXPECT_EQ(server_->abandoned_requests(), 1u);
  expect_still_serving();
}

}  // namespace
}  // namespace surge::http
