// Command-line and environment configuration of the `surge` binary.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "db/connection.h"
#include "http/server.h"
#include "redis/connection.h"

namespace surge::app {

struct Config {
  http::ServerOptions http;
  size_t workers = 0;  // 0: one per core
  redis::Options redis;
  db::Options db;
  std::string log_level = "info";
  std::string shop_cache = "early-refresh";  // mutex | logical | early-refresh
  // Sessions slide: every request with the token renews it for this long (the course's 30 min).
  int login_ttl_minutes = 30;
  // Flash sale and order writer. Every instance must use the same number of shards.
  int order_shards = 4;
  std::string instance;  // consumer name in the order writers' group; default host-port
  bool order_writer = true;
  int order_claim_idle_ms = 30'000;
  std::chrono::milliseconds login_ttl() const { return std::chrono::minutes(login_ttl_minutes); }
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
void add_http_flags(CLI::App& cmd, Config& config);
void add_seed_flags(CLI::App& cmd, SeedOptions& seed);

// Applies a DSN of the form mysql://user:password@host:port/database[?socket=/path] to `out`.
// Returns false (leaving `out` untouched) if it does not parse.
bool apply_mysql_dsn(std::string_view dsn, db::Options& out);

}  // namespace surge::app
