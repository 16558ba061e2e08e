// posix_spawn-based child processes and a tiny blocking HTTP client.
#include "support/processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/stores.h"

extern char** environ;

namespace surge::test {

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
             const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0] + ": " + std::strerror(rc));
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    this->~Child();
    pid_ = o.pid_;
    o.pid_ = -1;
  }
  return *this;
}

bool Child::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Child::kill(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Child::wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

RedisServer::RedisServer() : port_(free_port()) {
  char tmpl[] = "/tmp/surge-redis-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  start();
  if (!wait_ready(std::chrono::seconds(10))) throw std::runtime_error("redis-server did not start");
}

RedisServer::~RedisServer() {
  child_ = Child();
  std::string cmd = "rm -rf '" + dir_ + "'";
  (void)std::system(cmd.c_str());
}

void RedisServer::start() {
  child_ = Child({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                  dir_, "--save", "", "--appendonly", "no", "--daemonize", "no"},
                 {}, dir_ + "/redis.log");
}

void RedisServer::kill9() {
  child_.kill(SIGKILL);
  child_.wait(std::chrono::seconds(5));
}

void RedisServer::pause(bool paused) { child_.kill(paused ? SIGSTOP : SIGCONT); }

bool RedisServer::wait_ready(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::string reply = raw_http(port_, "PING\r\n", std::chrono::milliseconds(200));
    if (reply.find("+PONG") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

SurgeServer::SurgeServer(const std::vector<std::string>& extra_args,
                         const std::vector<std::string>& env)
    : port_(free_port()), admin_port_(free_port()) {
  std::vector<std::string> argv = {SURGE_BINARY,     "serve",
                                   "--port",         std::to_string(port_),
                                   "--listen",       "127.0.0.1",
                                   "--workers",      "2",
                                   "--admin-listen", "127.0.0.1:" + std::to_string(admin_port_)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  child_ = Child(argv, env.empty() ? surge_env() : env);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    if (!child_.running()) throw std::runtime_error("surge exited during start-up");
    if (http_get(port_, "/health").first == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("surge did not become healthy");
}

std::pair<int, std::string> admin_send(uint16_t port, const std::string& method,
                                       const std::string& path, const std::string& body) {
  return http_send(port, method, path, body, {"authorization: " + stores().admin_token});
}

std::vector<std::string> surge_env() {
  const Stores& s = stores();
  std::vector<std::string> env = {
      "SURGE_REDIS_HOST=" + s.redis.host, "SURGE_REDIS_PORT=" + std::to_string(s.redis.port),
      "SURGE_MYSQL_HOST=" + s.db.host, "SURGE_MYSQL_PORT=" + std::to_string(s.db.port),
      "SURGE_MYSQL_SOCKET=" + s.db.socket, "SURGE_MYSQL_USER=" + s.db.user,
      "SURGE_MYSQL_PASSWORD=" + s.db.password, "SURGE_MYSQL_DATABASE=" + s.db.database,
      "SURGE_ADMIN_TOKEN=" + s.admin_token,
      // Every test client is one address (loopback), which the per-address purchase limit
      // would throttle across unrelated users; the limit's own test passes --sale-rate.
      "SURGE_SALE_RATE=0", "SURGE_LOG_LEVEL=warn"};
  if (!s.redis_cluster.empty()) env.push_back("SURGE_REDIS_CLUSTER=" + s.redis_cluster);
  return env;
}

std::string raw_http(uint16_t port, const std::string& raw, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < raw.size()) {
      ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      // A RESP probe needs one reply only.
      if (raw == "PING\r\n" && out.find("\r\n") != std::string::npos) break;
    }
  }
  ::close(fd);
  return out;
}

int64_t metric(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > name.size() && line.starts_with(name + " ")) {
      return std::stoll(line.substr(name.size() + 1));
    }
  }
  return -1;
}

std::pair<int, std::string> http_get(uint16_t port, const std::string& path) {
  return http_send(port, "GET", path);
}

std::pair<int, std::string> http_send(uint16_t port, const std::string& method,
                                      const std::string& path, const std::string& body,
                                      const std::vector<std::string>& headers) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  bool typed = false;
  for (const auto& h : headers) {
    req += h + "\r\n";
    typed = typed || h.starts_with("Content-Type");
  }
  if (!body.empty() && !typed) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string resp = raw_http(port, req, std::chrono::seconds(10));
  if (resp.size() < 12 || !resp.starts_with("HTTP/1.1 ")) return {0, resp};
  int status = std::atoi(resp.substr(9, 3).c_str());
  auto at = resp.find("\r\n\r\n");
  return {status, at == std::string::npos ? "" : resp.substr(at + 4)};
}

}  // namespace surge::test
