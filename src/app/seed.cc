// Schema migration and data loading with progress output.
#include "app/seed.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/migrate_command.h"
#include "db/connection.h"
#include "db/sql_script.h"

#ifndef SURGE_SOURCE_DIR
#define SURGE_SOURCE_DIR "."
#endif

namespace surge::app {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs every statement of a file, printing one line per step with its time.
bool run_file(db::Connection& conn, const std::string& path, std::string_view what) {
  auto text = read_file(path);
  if (!text) {
    fmt::print(stderr, "seed: cannot read {}\n", path);
    return false;
  }
  auto statements = db::split_sql(*text);
  std::string current;
  auto step_started = std::chrono::steady_clock::now();
  auto finish_step = [&] {
    if (current.empty()) return;
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - step_started).count();
    fmt::print("seed: {} {:<28} {:6.2f} s\n", what, current, s);
    std::fflush(stdout);
  };
  for (const auto& st : statements) {
    if (st.step != current) {
      finish_step();
      current = st.step;
      step_started = std::chrono::steady_clock::now();
    }
    if (auto r = conn.simple(st.sql); !r) {
      fmt::print(stderr, "seed: {} failed in step '{}' ({}):\n{}\n", what, st.step,
                 r.error().message(), st.sql.substr(0, 400));
      return false;
    }
  }
  finish_step();
  return true;
}

std::optional<int64_t> count_rows(db::Connection& conn, std::string_view table) {
  auto rows = conn.query(fmt::format("SELECT COUNT(*) FROM {}", table));
  if (!rows || rows->empty()) return std::nullopt;
  return db::to_int64(rows->rows[0][0]);
}

constexpr std::string_view kTables[] = {"tb_voucher_order", "tb_seckill_voucher",
                                        "tb_voucher",       "tb_blog_comments",
                                        "tb_blog",          "tb_follow",
                                        "tb_sign",          "tb_user_info",
                                        "tb_user",          "tb_shop",
                                        "tb_shop_type"};

}  // namespace

int run_seed(const Config& config, const SeedOptions& options) {
  std::string dir =
      options.sql_dir.empty() ? std::string(SURGE_SOURCE_DIR) + "/sql" : options.sql_dir;
  db::Connection conn(config.db);
  if (auto r = conn.ping(); !r) {
    fmt::print(stderr, "seed: cannot reach MariaDB ({})\n", r.error().message());
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  // The tables come from the migrations, so a seeded database is exactly a migrated one.
  if (int rc = run_migrate(config, false); rc != kMigrateOk) return rc;
  if (options.schema_only) return 0;

  auto shops = count_rows(conn, "tb_shop");
  if (!shops) return 1;
  if (*shops > 0 && !options.force) {
    fmt::print("seed: data already loaded ({} shops); use --force to reload\n", *shops);
    return 0;
  }
  if (options.force) {
    for (auto table : kTables) {
      if (!conn.simple(fmt::format("TRUNCATE TABLE {}", table))) return 1;
    }
  }
  if (!conn.simple(fmt::format("SET @scale = {}, @seed = {}", options.scale, options.seed))) {
    return 1;
  }
  fmt::print("seed: loading data set (scale {}, seed {})\n", options.scale, options.seed);
  if (!run_file(conn, dir + "/seed.sql", "data")) return 1;
  for (auto table : kTables) {
    auto n = count_rows(conn, table);
    fmt::print("seed: {:<20} {:>9} rows\n", table, n.value_or(-1));
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("seed: done in {:.1f} s\n", s);
  return 0;
}

}  // namespace surge::app
