// Schema creation and data loading with progress output.
#include "app/seed.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "db/connection.h"

#ifndef SURGE_SOURCE_DIR
#define SURGE_SOURCE_DIR "."
#endif

namespace surge::app {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

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
  auto statements = split_sql(*text);
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

std::vector<SqlStatement> split_sql(std::string_view text) {
  std::vector<SqlStatement> out;
  std::string step;
  std::string pending;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view t = trim(line);
    if (t.starts_with("--")) {
      if (t.starts_with("-- step:")) step = std::string(trim(t.substr(8)));
      continue;
    }
    if (t.empty() && pending.empty()) continue;
    pending.append(line);
    pending.push_back('\n');
    if (t.ends_with(';')) {
      out.push_back({step, std::move(pending)});
      pending.clear();
    }
  }
  if (!trim(pending).empty()) out.push_back({step, std::move(pending)});
  return out;
}

int run_seed(const Config& config, const SeedOptions& options) {
  std::string dir =
      options.sql_dir.empty() ? std::string(SURGE_SOURCE_DIR) + "/sql" : options.sql_dir;
  db::Connection conn(config.db);
  if (auto r = conn.ping(); !r) {
    fmt::print(stderr, "seed: cannot reach MariaDB ({})\n", r.error().message());
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  if (!run_file(conn, dir + "/schema.sql", "schema")) return 1;
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
