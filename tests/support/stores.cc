// Reads the fixture's env file.
#include "support/stores.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "db/connection.h"
#include "redis/cluster.h"

namespace surge::test {

namespace {

std::map<std::string, std::string> read_env(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line.starts_with('#')) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) {
      value = value.substr(1, value.size() - 2);
    }
    out[line.substr(0, eq)] = value;
  }
  return out;
}

Stores load() {
  const char* path = std::getenv("SURGE_TEST_ENV");
  if (!path) {
    throw std::runtime_error(
        "SURGE_TEST_ENV is not set: run integration tests through ctest (the stores fixture)");
  }
  auto env = read_env(path);
  Stores s;
  s.redis.host = env.at("SURGE_REDIS_HOST");
  s.redis.port = static_cast<uint16_t>(std::stoi(env.at("SURGE_REDIS_PORT")));
  s.db.host = env.at("SURGE_MYSQL_HOST");
  s.db.port = static_cast<uint16_t>(std::stoi(env.at("SURGE_MYSQL_PORT")));
  s.db.socket = env.at("SURGE_MYSQL_SOCKET");
  s.db.user = env.at("SURGE_MYSQL_USER");
  s.db.password = env.at("SURGE_MYSQL_PASSWORD");
  s.db.database = env.at("SURGE_MYSQL_DATABASE");
  s.var_dir = env.at("SURGE_VAR_DIR");
  s.admin_token = env.at("SURGE_ADMIN_TOKEN");  // scripts/services writes one
  if (auto it = env.find("SURGE_REDIS_CLUSTER"); it != env.end()) s.redis_cluster = it->second;
  return s;
}

}  // namespace

const Stores& stores() {
  static const Stores s = load();
  return s;
}

std::shared_ptr<redis::Client> redis_client(boost::asio::any_io_executor ex,
                                            const std::string& cluster) {
  if (cluster.empty()) return redis::NodeClient::create(std::move(ex), stores().redis);
  redis::ClusterOptions o;
  o.seeds = redis::parse_seeds(cluster).value();
  o.node = stores().redis;
  return redis::ClusterClient::create(std::move(ex), std::move(o));
}

db::Options root_db() {
  db::Options o = stores().db;
  o.user = "root";
  o.password = "";
  o.database = "mysql";
  return o;
}

db::Options pool_options(size_t pool_size) {
  db::Options o = stores().db;
  o.pool_size = pool_size;
  return o;
}

void exec_root(const std::string& sql) {
  db::Options root = root_db();
  db::Connection conn(root);
  auto r = conn.simple(sql);
  ASSERT_TRUE(r) << sql << ": " << r.error().message();
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace surge::test
