// A small client for the hm-dianping API in integration tests: requests with a method, body,
// token and extra headers; logging a phone in through /user/code (the server must run with
// --dev-return-code) and /user/login; and redis-cli against the suite's Redis for set-up and
// inspection that the API does not offer (expiring a token, planting feed entries).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "redis/cluster.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge::test {

struct ApiResult {
  int status = 0;
  std::string body;
  boost::json::value json() const {
    boost::json::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec) ADD_FAILURE() << "not JSON (status " << status << "): " << body;
    return v;
  }
  bool success() const {
    auto v = json();
    return v.is_object() && v.as_object().contains("success") && v.at("success").as_bool();
  }
};

// One request (test::http_send) with the token, if any, and `headers`, extra "Name: value\r\n"
// lines.
inline ApiResult api(uint16_t port, const std::string& method, const std::string& path,
                     const std::string& token = "", const std::string& body = "",
                     const std::string& headers = "") {
  std::vector<std::string> lines;
  if (!token.empty()) lines.push_back("authorization: " + token);
  for (size_t at = 0; at < headers.size();) {
    size_t end = headers.find("\r\n", at);
    if (end == std::string::npos) end = headers.size();
    if (end > at) lines.push_back(headers.substr(at, end - at));
    at = end + 2;
  }
  auto [status, text] = http_send(port, method, path, body, lines);
  return {status, text};
}

// `surge serve` flags for API tests: the code comes back in the response, and the send-code
// limits are out of the way (the limits have their own test).
inline std::vector<std::string> api_flags(std::vector<std::string> more = {}) {
  std::vector<std::string> f = {"--dev-return-code",
                                "--code-per-ip-hour",
                                "1000000",
                                "--code-per-phone-minute",
                                "1000",
                                "--code-per-phone-hour",
                                "1000"};
  f.insert(f.end(), more.begin(), more.end());
  return f;
}

// A phone number no other test process uses: 139 + pid-derived + counter digits.
inline std::string unique_phone() {
  static std::atomic<int> counter{0};
  int n = counter++;
  char buf[16];
  std::snprintf(buf, sizeof buf, "139%05d%03d", static_cast<int>(::getpid() % 100000), n % 1000);
  return buf;
}

// code → login; returns the token (empty, with a test failure, if any step fails). The server
// must run with --dev-return-code.
inline std::string login(uint16_t port, const std::string& phone) {
  auto code = api(port, "POST", "/user/code?phone=" + phone);
  if (code.status != 200 || !code.success()) {
    ADD_FAILURE() << "code for " << phone << ": " << code.status << " " << code.body;
    return "";
  }
  std::string c(code.json().at("data").as_string());
  auto r =
      api(port, "POST", "/user/login", "", R"({"phone":")" + phone + R"(","code":")" + c + R"("})");
  if (r.status != 200 || !r.success()) {
    ADD_FAILURE() << "login " << phone << ": " << r.status << " " << r.body;
    return "";
  }
  return std::string(r.json().at("data").as_string());
}

// The id of the user behind `token` (GET /user/me).
inline int64_t my_id(uint16_t port, const std::string& token) {
  auto r = api(port, "GET", "/user/me", token);
  if (r.status != 200) return 0;
  return r.json().at("data").at("id").to_number<int64_t>();
}

inline std::string shell(const std::string& cmd);

// redis-cli against the suite's Redis (on a cluster: its first seed, following redirections);
// returns its raw output without the trailing newline.
inline std::string redis_cli(const std::string& args) {
  const Stores& s = stores();
  redis::Endpoint at{s.redis.host, s.redis.port};
  if (!s.redis_cluster.empty()) at = redis::parse_seeds(s.redis_cluster).value().front();
  return shell(std::string("redis-cli ") + (s.redis_cluster.empty() ? "" : "-c ") + "-h " +
               at.host + " -p " + std::to_string(at.port) + " " + args + " 2>&1");
}

// The output of a shell command, without the trailing newline.
inline std::string shell(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Several redis-cli commands in one run (one per line); one output line per command.
inline std::vector<std::string> redis_cli_batch(const std::vector<std::string>& commands) {
  char path[] = "/tmp/surge-redis-cli-XXXXXX";
  int fd = ::mkstemp(path);
  std::string text;
  for (const auto& c : commands) text += c + "\n";
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ADD_FAILURE() << "cannot write " << path;
  }
  ::close(fd);
  std::string out = redis_cli(std::string("< ") + path);
  ::unlink(path);
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= out.size() && !out.empty()) {
    size_t nl = out.find('\n', pos);
    lines.push_back(out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return lines;
}

// One sample of /metrics on an admin listener, matched as a whole series name (labels
// included); -1 when absent.
inline int64_t metric_sample(uint16_t admin_port, const std::string& series) {
  auto [status, text] = http_get(admin_port, "/metrics");
  EXPECT_EQ(status, 200);
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

}  // namespace surge::test
