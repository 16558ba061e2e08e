// A scripted stand-in for Redis on a loopback port, for tests of what a client does when the
// server misbehaves (stalls, garbage, endless redirections).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "redis/connection.h"
#include "redis/reply.h"

namespace surge::test {

using redis::Clock;
using redis::Decoder;
using redis::Reply;
using namespace std::chrono_literals;

// One accepted connection, as seen by a FakeRedis script. Every wait is bounded and gives up
// when the server is being torn down.
class Peer {
 public:
  Peer(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  // The next complete command the client sent (commands are RESP arrays, so the reply decoder
  // parses them), or nullopt on EOF, timeout or teardown.
  std::optional<Reply> next_command(std::chrono::milliseconds timeout = 3s) {
    auto until = Clock::now() + timeout;
    for (;;) {
      auto r = decoder_.next();
      if (!r) return std::nullopt;
      if (*r) return std::move(**r);
      if (!read_some(until)) return std::nullopt;
    }
  }

  void send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  // True once the client has closed its end; false on timeout or teardown.
  bool wait_closed(std::chrono::milliseconds timeout = 3s) {
    auto until = Clock::now() + timeout;
    while (read_some(until)) {
    }
    return eof_;
  }

  // Answers every command with `reply` until the client goes away.
  void serve(const std::string& reply) {
    while (next_command(5s)) send(reply);
  }

 private:
  // Reads what is available into the decoder; false on EOF, timeout or teardown.
  bool read_some(Clock::time_point until) {
    char buf[16384];
    while (!stopping_ && Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      (void)decoder_.feed(buf, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  int fd_;
  const std::atomic<bool>& stopping_;
  Decoder decoder_;
  bool eof_ = false;
};

// A scripted stand-in for Redis on an ephemeral loopback port. Connections are served one at a
// time on a private thread by `script(peer, index)`, index 0 being the first connection; the
// connection is closed when the script returns. Destruction stops and joins the thread.
class FakeRedis {
 public:
  using Script = std::function<void(Peer&, int)>;

  explicit FakeRedis(Script script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("fake redis: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }

  ~FakeRedis() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  int finished() const { return finished_; }

 private:
  void loop() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      int index = accepted_++;
      Peer peer(fd, stopping_);
      script_(peer, index);
      ::close(fd);
      ++finished_;
    }
  }

  Script script_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> finished_{0};
  std::thread thread_;
};

}  // namespace surge::test
