// Child processes for tests: a private redis-server that a test may kill and restart, and the
// `surge` binary serving against the fixture stores.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace surge::test {

// A spawned child; the destructor kills it (SIGKILL) if still running.
class Child {
 public:
  Child() = default;
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
        const std::string& log_path = "");
  ~Child();
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;

  pid_t pid() const { return pid_; }
  bool running();
  void kill(int sig);
  // Waits for exit; returns the exit status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
};

// redis-server on a free loopback port with its data in a temp dir; stop()/start() keep the port.
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  uint16_t port() const { return port_; }
  void start();
  void kill9();             // SIGKILL, as a crash would
  void pause(bool paused);  // SIGSTOP / SIGCONT, for a stalled server
  bool wait_ready(std::chrono::milliseconds timeout);

 private:
  std::string dir_;
  uint16_t port_;
  Child child_;
};

// `surge serve` on a free port (and its admin listener on another) against the fixture stores (or
// the stores `env` names, as KEY=VALUE lines); waits until it answers.
class SurgeServer {
 public:
  explicit SurgeServer(const std::vector<std::string>& extra_args = {},
                       const std::vector<std::string>& env = {});
  uint16_t port() const { return port_; }
  // The admin listener (--admin-listen): /metrics, /health in full, /dashboard.
  uint16_t admin_port() const { return admin_port_; }
  Child& child() { return child_; }

 private:
  uint16_t port_;
  uint16_t admin_port_;
  Child child_;
};

// A blocking HTTP/1.1 exchange for tests: sends `raw` bytes to 127.0.0.1:port and returns
// everything the server sends until it closes or `timeout` passes.
std::string raw_http(uint16_t port, const std::string& raw,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
// GET path with Connection: close; returns the status code and the body.
std::pair<int, std::string> http_get(uint16_t port, const std::string& path);
// Any method with a body (JSON unless a Content-Type header line says otherwise) and extra
// header lines ("name: value"); returns the status code and the body.
std::pair<int, std::string> http_send(uint16_t port, const std::string& method,
                                      const std::string& path, const std::string& body = "",
                                      const std::vector<std::string>& headers = {});

// The value of an unlabelled metric in Prometheus text, matched as a whole line ("x_total 3"
// never matches "x_total 30"); -1 when absent.
int64_t metric(const std::string& text, const std::string& name);

// http_send as the administrator (the fixture's admin token in the authorization header): for
// the shop and voucher writes.
std::pair<int, std::string> admin_send(uint16_t port, const std::string& method,
                                       const std::string& path, const std::string& body = "");

// The environment that points a `surge` child at the fixture stores.
std::vector<std::string> surge_env();

}  // namespace surge::test
