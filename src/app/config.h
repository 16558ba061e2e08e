// Command-line and environment configuration of the `surge` binary.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "db/connection.h"
#include "http/server.h"
#include "redis/connection.h"

namespace surge::app {

// Users and social features (issue 6).
struct SocialOptions {
  // POST /user/code also answers the code. There is no SMS gateway: without this flag the code
  // is only written to the log. Development and tests only.
  bool dev_return_code = false;
  int code_ttl_seconds = 120;
  // Sending a login code: per phone per minute and per hour, per client address per hour.
  int code_per_phone_minute = 1;
  int code_per_phone_hour = 5;
  int code_per_ip_hour = 20;
  // Wrong codes tolerated before the code is withdrawn (6 digits must not be guessable).
  int code_max_attempts = 5;
  int feed_page_size = 2;  // the original's hard-coded page of /blog/of/follow
  int feed_keep = 1000;    // newest entries kept per feed (the original never trimmed them)
  std::string upload_dir = "var/imgs";
  size_t upload_max_bytes = 1024 * 1024;  // also bounded by --body-limit
  // Per user per day (counted from tb_upload): files and bytes.
  int64_t upload_daily_count = 100;
  int64_t upload_daily_bytes = int64_t{50} << 20;
  // Per user, on each worker: a burst of this many, refilled at this many per minute (0: off).
  int upload_per_minute = 20;
};

struct Config {
  http::ServerOptions http;
  // The operations listener (/metrics, /health in full, /dashboard): loopback by default, port 0
  // picks a free one (logged at start). Never reachable through the public listener.
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 0;
  size_t workers = 0;  // 0: one per core
  redis::Options redis;
  // Redis Cluster seeds (host:port,...): the flash sale runs there. Empty: on `redis`.
  std::string redis_cluster;
  db::Options db;
  std::string log_level = "info";
  std::string shop_cache = "early-refresh";  // mutex | logical | early-refresh
  // Sessions slide: every request with the token renews it for this long (the course's 30 min).
  int login_ttl_minutes = 30;
  // Nor past this, however busy (0: no absolute limit).
  int login_max_age_minutes = 24 * 60;
  // Each worker answers a session it read from Redis this recently without asking again.
  int session_cache_ms = 2000;
  size_t session_cache_size = 50'000;
  // Flash sale and order writer. Every instance must use the same number of shards.
  int order_shards = 4;
  std::string instance;  // consumer name in the order writers' group; default host-port
  bool order_writer = true;
  int order_claim_idle_ms = 30'000;
  // Serve even if the start-up schema check finds the guarantees' keys missing (logged loudly).
  bool allow_degraded_schema = false;
  // The order writer's own MariaDB connections (a bulkhead: public reads, however many or slow,
  // cannot take them, so paid-for orders keep landing while the shared pool is saturated).
  size_t order_writer_pool = 2;
  int order_retention_s = 86'400;  // acknowledged stream entries older than this are trimmed
  // After SIGTERM, how long /health answers 503 while requests are still served, so a balancer
  // that polls it moves traffic away before the listener closes. 0: close at once.
  int drain_delay_ms = 0;
  // The administrator's credential for shop and voucher writes, sent in the
  // authorization header like a session; empty: those routes always refuse.
  std::string admin_token;
  // Peers whose X-Real-IP / X-Forwarded-For are believed (nginx); everyone else is its address.
  std::vector<std::string> trusted_proxies;
  // Purchases per second per user and per client address, each worker (0: unlimited).
  double sale_rate = 5;
  // auto | replica | none (see --sale-durability); resolved by sale_replicas().
  std::string sale_durability = "auto";
  int sale_durability_timeout_ms = 500;
  // Replicas a purchase (and an order id block, and the order writer's read) must reach.
  int sale_replicas() const {
    if (sale_durability == "auto") return redis_cluster.empty() ? 0 : 1;
    return sale_durability == "replica" ? 1 : 0;
  }
  std::chrono::milliseconds login_ttl() const { return std::chrono::minutes(login_ttl_minutes); }
  SocialOptions social;
};

struct SeedOptions {
  double scale = 1.0;
  int seed = 42;
  bool force = false;  // load even if shops already exist (drops existing rows)
  bool schema_only = false;
  std::string sql_dir;  // defaults to the source tree's sql/
};

// Adds the flags shared by every subcommand that talks to Redis or MariaDB. Every flag also
// reads an environment variable (SURGE_...), so `set -a; . var/surge.env` configures them.
void add_store_flags(CLI::App& cmd, Config& config);
// --order-shards: `surge serve` and every command that reads the flash sale's streams.
void add_order_shards_flag(CLI::App& cmd, Config& config);
void add_http_flags(CLI::App& cmd, Config& config);
void add_seed_flags(CLI::App& cmd, SeedOptions& seed);
// Login codes, rate limits, feed and upload settings (called by add_http_flags).
void add_social_flags(CLI::App& cmd, SocialOptions& social);

// Applies a DSN of the form mysql://user:password@host:port/database[?socket=/path] to `out`.
// Returns false (leaving `out` untouched) if it does not parse.
bool apply_mysql_dsn(std::string_view dsn, db::Options& out);

}  // namespace surge::app
