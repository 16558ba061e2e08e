// The migration runner: pending migrations, the unique-key pre-check, progress and timing.
#include "db/migrate.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <regex>
#include <set>

#include <fmt/format.h>

namespace surge::db {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string checksum_of(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string first_line(std::string_view sql) {
  sql = trim(sql);
  auto nl = sql.find('\n');
  std::string out(trim(sql.substr(0, nl)));
  if (nl != std::string_view::npos) out += " ...";
  return out;
}

// Statements that may share a transaction: everything but DDL (which commits implicitly).
bool is_data_statement(std::string_view sql) {
  sql = trim(sql);
  std::string word;
  for (char c : sql) {
    if (!std::isalpha(static_cast<unsigned char>(c))) break;
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE" ||
         word == "SET";
}

std::string join_columns(const std::vector<std::string>& cols, std::string_view sep) {
  std::string out;
  for (const auto& c : cols) {
    if (!out.empty()) out += sep;
    out += c;
  }
  return out;
}

// The table of a `CREATE TABLE IF NOT EXISTS t (...)`, or empty: such a statement is a no-op on
// an existing table, so the runner says so instead of claiming to have run it.
std::string created_if_absent(std::string_view sql) {
  static const std::regex kCreate(R"(^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+`?(\w+)`?)",
                                  std::regex::icase);
  std::string text(sql);
  std::smatch m;
  if (!std::regex_search(text, m, kCreate)) return {};
  return m[1].str();
}

struct Pending {
  const Migration* migration;
  std::vector<SqlStatement> statements;
};

class Runner {
 public:
  Runner(Connection& conn, const MigrateOptions& options) : conn_(conn), options_(options) {}

  MigrateReport run(const std::vector<Migration>& migrations);

 private:
  template <class... Args>
  void say(fmt::format_string<Args...> f, Args&&... args) {
    if (options_.print) options_.print(fmt::format(f, std::forward<Args>(args)...));
  }
  void report_blocking(const Duplicates& d);
  bool apply(const Pending& p, SchemaSnapshot& snapshot);
  void plan(const Pending& p, SchemaSnapshot& snapshot);
  Result<std::set<int>> applied_versions(const SchemaSnapshot& snapshot,
                                         const std::vector<Migration>& migrations);

  Connection& conn_;
  const MigrateOptions& options_;
};

void Runner::report_blocking(const Duplicates& d) {
  say("migrate: cannot add unique key {} on {}: {} value{} held by more than one row ({} rows):",
      d.key.name, describe(d.key), d.groups, d.groups == 1 ? " is" : "s are", d.rows);
  for (const auto& s : d.samples) say("    {}", s);
  if (static_cast<int64_t>(d.samples.size()) < d.groups) {
    say("    ... and {} more", d.groups - static_cast<int64_t>(d.samples.size()));
  }
  if (!d.resolve.empty()) {
    say("  how to resolve:");
    for (const auto& r : d.resolve) say("    {}", r);
  }
  if (!d.primary_key.empty()) {
    std::string on;
    for (const auto& c : d.key.columns) on += fmt::format("k.{0} = d.{0} AND ", c);
    say("  to keep the row with the lowest {0} of each group and delete the others:",
        d.primary_key);
    say("    DELETE d FROM {0} d JOIN {0} k ON {1}k.{2} < d.{2};", d.key.table, on, d.primary_key);
  }
}

Result<std::set<int>> Runner::applied_versions(const SchemaSnapshot& snapshot,
                                               const std::vector<Migration>& migrations) {
  std::set<int> out;
  if (!snapshot.has_table(std::string(kVersionTable))) return out;
  auto rows = conn_.query(fmt::format("SELECT version, checksum FROM {}", kVersionTable));
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) {
    auto v = to_int64(r[0]);
    if (!v) continue;
    out.insert(static_cast<int>(*v));
    for (const auto& m : migrations) {
      if (m.version == *v && r[1] && *r[1] != m.checksum) {
        say("migrate: warning: {:04}_{} was applied from a different text (checksum {} now {}); "
            "edited migrations are not re-run: add a new one instead",
            m.version, m.name, *r[1], m.checksum);
      }
    }
  }
  return out;
}

void Runner::plan(const Pending& p, SchemaSnapshot& snapshot) {
  say("migrate: would apply {:04}_{}", p.migration->version, p.migration->name);
  for (const auto& st : p.statements) {
    if (auto key = parse_add_key(st.sql)) {
      if (const IndexInfo* have = snapshot.find(*key)) {
        say("  skip  {} {}: present as {}", key->unique ? "unique key" : "index", describe(*key),
            have->name);
      } else {
        say("  add   {} {} on {}", key->unique ? "unique key" : "index", key->name, describe(*key));
        snapshot.indexes[key->table].push_back({key->name, key->unique, key->columns});
      }
    } else if (auto t = created_if_absent(st.sql); !t.empty() && snapshot.has_table(t)) {
      say("  skip  table {}: exists", t);
    } else if (!st.step.empty()) {
      say("  run   {:<40} {}", st.step, first_line(st.sql));
    }
  }
}

bool Runner::apply(const Pending& p, SchemaSnapshot& snapshot) {
  const Migration& m = *p.migration;
  auto started = Clock::now();
  say("migrate: applying {:04}_{}", m.version, m.name);
  bool data_only = std::all_of(p.statements.begin(), p.statements.end(),
                               [](const SqlStatement& s) { return is_data_statement(s.sql); });
  if (data_only && !conn_.begin()) return false;
  auto give_up = [&](std::string_view why) {
    if (data_only) (void)conn_.rollback();
    say("migrate: {:04}_{} failed: {}", m.version, m.name, why);
    if (!data_only) {
      say("migrate: the statements before it stay applied (DDL commits at once); they are "
          "written to be re-run, so fix the cause and run `surge migrate` again");
    }
    return false;
  };
  for (const auto& st : p.statements) {
    auto step_started = Clock::now();
    auto key = parse_add_key(st.sql);
    if (key) {
      if (const IndexInfo* have = snapshot.find(*key)) {
        say("  skip  {} {}: present as {}", key->unique ? "unique key" : "index", describe(*key),
            have->name);
        continue;
      }
      if (key->unique && snapshot.has_table(key->table)) {
        // Checked again here: a data step of an earlier migration may have changed the rows.
        auto dups = find_duplicates(conn_, *key);
        if (!dups)
          return give_up(fmt::format("checking {}: {}", describe(*key), dups.error().message()));
        if (dups->groups > 0) {
          dups->resolve = st.resolve;
          report_blocking(*dups);
          return give_up("rows violate the unique key");
        }
      }
    }
    if (auto t = created_if_absent(st.sql); !t.empty() && snapshot.has_table(t)) {
      say("  skip  table {}: exists", t);
      continue;
    }
    if (auto r = conn_.simple(st.sql); !r) {
      return give_up(
          fmt::format("step '{}' ({}): {}", st.step, r.error().message(), first_line(st.sql)));
    }
    if (key) {
      snapshot.indexes[key->table].push_back({key->name, key->unique, key->columns});
      say("  added {:<58} {:6.2f} s",
          fmt::format("{} {} on {}", key->unique ? "unique key" : "index", key->name,
                      describe(*key)),
          seconds_since(step_started));
    } else if (!st.step.empty()) {
      say("  ran   {:<58} {:6.2f} s", st.step, seconds_since(step_started));
    }
  }
  auto ms = static_cast<int64_t>(seconds_since(started) * 1000);
  Params params{int64_t{m.version}, m.name, m.checksum, ms};
  auto recorded = conn_.execute(
      fmt::format("INSERT INTO {} (version, name, checksum, duration_ms) VALUES (?, ?, ?, ?)",
                  kVersionTable),
      params);
  if (!recorded) return give_up("recording the version: " + recorded.error().message());
  if (data_only && !conn_.commit()) return give_up("commit failed");
  say("migrate: {:04}_{} applied in {:.2f} s", m.version, m.name, seconds_since(started));
  return true;
}

MigrateReport Runner::run(const std::vector<Migration>& migrations) {
  MigrateReport report;
  auto started = Clock::now();
  auto db = conn_.query("SELECT DATABASE()");
  if (!db || db->empty()) {
    say("migrate: cannot reach MariaDB ({})", db ? "no database" : db.error().message());
    return report;
  }
  std::string name = db->rows[0][0].value_or("?");
  std::set<int> versions;
  for (const auto& m : migrations) {
    if (!versions.insert(m.version).second) {
      // Two branches each added the same number: renumber one before anything runs.
      say("migrate: two migrations share version {:04}; renumber one of them", m.version);
      return report;
    }
  }
  // Two runners at once would both see the same pending list; the second waits, then finds it
  // applied.
  auto lock = conn_.query("SELECT GET_LOCK(CONCAT('surge.migrate.', DATABASE()), 60)");
  if (!lock || lock->empty() || to_int64(lock->rows[0][0]) != 1) {
    say("migrate: another `surge migrate` holds the lock on {}; try again later", name);
    return report;
  }
  auto finish = [&](MigrateOutcome outcome) {
    (void)conn_.query("SELECT RELEASE_LOCK(CONCAT('surge.migrate.', DATABASE()))");
    report.outcome = outcome;
    return report;
  };

  auto snapshot = read_snapshot(conn_);
  if (!snapshot) {
    say("migrate: cannot read the schema ({})", snapshot.error().message());
    return finish(MigrateOutcome::kFailed);
  }
  auto applied = applied_versions(*snapshot, migrations);
  if (!applied) {
    say("migrate: cannot read {} ({})", kVersionTable, applied.error().message());
    return finish(MigrateOutcome::kFailed);
  }
  report.from_version = applied->empty() ? 0 : *applied->rbegin();
  report.to_version = report.from_version;

  std::vector<Pending> pending;
  for (const auto& m : migrations) {
    if (!applied->contains(m.version)) pending.push_back({&m, split_sql(m.text)});
  }
  say("migrate: database {}: version {}, {} of {} migrations pending (latest {})", name,
      report.from_version == 0 ? std::string("none") : std::to_string(report.from_version),
      pending.size(), migrations.size(), latest_version(migrations));
  if (pending.empty()) {
    say("migrate: up to date; nothing changed ({:.2f} s)", seconds_since(started));
    return finish(MigrateOutcome::kUpToDate);
  }

  // Every unique key to be added, checked against the rows now, so that a violation stops the
  // run before its first change rather than in the middle.
  for (const auto& p : pending) {
    for (const auto& st : p.statements) {
      auto key = parse_add_key(st.sql);
      if (!key || !key->unique || !snapshot->has_table(key->table) || snapshot->find(*key)) {
        continue;
      }
      auto check_started = Clock::now();
      auto dups = find_duplicates(conn_, *key);
      if (!dups) {
        say("migrate: cannot check {} ({})", describe(*key), dups.error().message());
        return finish(MigrateOutcome::kFailed);
      }
      say("migrate: checked {} for duplicates: {} found ({:.2f} s)", describe(*key), dups->groups,
          seconds_since(check_started));
      if (dups->groups > 0) {
        dups->resolve = st.resolve;
        report.blocking.push_back(std::move(*dups));
      }
    }
  }
  if (!report.blocking.empty()) {
    for (const auto& d : report.blocking) report_blocking(d);
    say("migrate: {}; resolve the rows above, then run `surge migrate`{}",
        options_.dry_run ? "`surge migrate` would stop here without changing anything"
                         : "nothing was changed",
        options_.dry_run ? "" : " again");
    return finish(MigrateOutcome::kBlocked);
  }

  if (options_.dry_run) {
    for (const auto& p : pending) plan(p, *snapshot);
    say("migrate: dry run: {} migration{} would be applied; nothing changed", pending.size(),
        pending.size() == 1 ? "" : "s");
    return finish(MigrateOutcome::kWouldApply);
  }
  {
    // Created only now, so that a blocked run or a dry run leaves the database untouched.
    auto created = conn_.simple(fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (\n"
        "  version     INT UNSIGNED NOT NULL,\n"
        "  name        VARCHAR(128) NOT NULL,\n"
        "  checksum    CHAR(16) NOT NULL COMMENT 'FNV-1a 64 of the migration file as applied',\n"
        "  duration_ms BIGINT UNSIGNED NOT NULL,\n"
        "  applied_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
        "  PRIMARY KEY (version)\n"
        ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci",
        kVersionTable));
    if (!created) {
      say("migrate: cannot create {} ({})", kVersionTable, created.error().message());
      return finish(MigrateOutcome::kFailed);
    }
  }
  for (const auto& p : pending) {
    if (!apply(p, *snapshot)) return finish(MigrateOutcome::kFailed);
    ++report.applied;
    report.to_version = std::max(report.to_version, p.migration->version);
    // Tables created by this migration (and their keys) are seen by the next one.
    if (auto fresh = read_snapshot(conn_)) *snapshot = std::move(*fresh);
  }
  say("migrate: {} migration{} applied, now at version {} ({:.2f} s)", report.applied,
      report.applied == 1 ? "" : "s", report.to_version, seconds_since(started));
  return finish(MigrateOutcome::kApplied);
}

}  // namespace

std::optional<Migration> make_migration(std::string_view file_name, std::string_view text) {
  static const std::regex kName(R"(^(\d{4})_([A-Za-z0-9_]+)\.sql$)");
  std::string fname(file_name);
  std::smatch m;
  if (!std::regex_match(fname, m, kName)) return std::nullopt;
  Migration out;
  out.version = std::stoi(m[1].str());
  out.name = m[2].str();
  out.text = std::string(text);
  out.checksum = checksum_of(text);
  return out;
}

int latest_version(const std::vector<Migration>& migrations) {
  int v = 0;
  for (const auto& m : migrations) v = std::max(v, m.version);
  return v;
}

std::optional<KeySpec> parse_add_key(std::string_view sql) {
  static const std::regex kAddKey(
      R"(^\s*ALTER\s+TABLE\s+`?(\w+)`?\s+ADD\s+(UNIQUE\s+)?(?:KEY|INDEX)\s+)"
      R"((?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*\(([^()]*)\)\s*;?\s*$)",
      std::regex::icase);
  std::string text(sql);
  std::smatch m;
  if (!std::regex_match(text, m, kAddKey)) return std::nullopt;
  KeySpec key;
  key.table = m[1].str();
  key.unique = m[2].matched;
  key.name = m[3].str();
  std::string cols = m[4].str();
  size_t at = 0;
  while (at <= cols.size()) {
    size_t comma = cols.find(',', at);
    std::string_view c = trim(std::string_view(cols).substr(at, comma - at));
    if (c.size() >= 2 && c.front() == '`' && c.back() == '`') c = c.substr(1, c.size() - 2);
    if (c.empty() || !std::all_of(c.begin(), c.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
        })) {
      return std::nullopt;
    }
    key.columns.emplace_back(c);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return key;
}

Result<Duplicates> find_duplicates(Connection& conn, const KeySpec& key, size_t samples) {
  auto snapshot = read_snapshot(conn);
  if (!snapshot) return snapshot.error();
  Duplicates d;
  d.key = key;
  d.primary_key = snapshot->primary_key(key.table);
  std::string cols = join_columns(key.columns, ", ");
  std::string not_null;
  std::string label;
  for (const auto& c : key.columns) {
    not_null += fmt::format("{}{} IS NOT NULL", not_null.empty() ? "" : " AND ", c);
    label += fmt::format("{}'{}=', {}", label.empty() ? "" : ", ', ', ", c, c);
  }
  // NULLs never collide in a unique key, so they are left out.
  std::string groups =
      fmt::format("FROM {} WHERE {} GROUP BY {} HAVING COUNT(*) > 1", key.table, not_null, cols);
  auto total = conn.query(fmt::format(
      "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n {}) AS g", groups));
  if (!total) return total.error();
  d.groups = to_int64(total->rows[0][0]).value_or(0);
  d.rows = to_int64(total->rows[0][1]).value_or(0);
  if (d.groups == 0) return d;
  std::string ids =
      d.primary_key.empty()
          ? std::string("''")
          : fmt::format("GROUP_CONCAT({0} ORDER BY {0} SEPARATOR ', ')", d.primary_key);
  auto rows = conn.query(fmt::format("SELECT CONCAT({}), COUNT(*), {} {} ORDER BY {} LIMIT {}",
                                     label, ids, groups, cols, samples));
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) {
    std::string line = fmt::format("{}: {} rows", r[0].value_or("?"), r[1].value_or("?"));
    if (!d.primary_key.empty()) line += fmt::format(" ({} {})", d.primary_key, r[2].value_or(""));
    d.samples.push_back(std::move(line));
  }
  return d;
}

MigrateReport migrate(Connection& conn, const std::vector<Migration>& migrations,
                      const MigrateOptions& options) {
  Runner runner(conn, options);
  return runner.run(migrations);
}

}  // namespace surge::db
