// Versioned schema migrations (sql/migrations/NNNN_name.sql, compiled into the binary) and the
// runner behind `surge migrate`: it brings a database in the original hm-dianping shape, an
// empty one or an older Surge one to the current schema, and records each step in
// schema_version. Blocking, on one db::Connection owned by the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "db/schema.h"
#include "db/sql_script.h"

namespace surge::db {

struct Migration {
  int version = 0;
  std::string name;      // the file name without number and extension
  std::string text;      // the whole file
  std::string checksum;  // 16 hex digits (FNV-1a 64 of text), stored in schema_version
};

// "0002_guarantee_keys.sql" + its text; nullopt if the name is not NNNN_name.sql.
std::optional<Migration> make_migration(std::string_view file_name, std::string_view text);

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& bundled_migrations();
int latest_version(const std::vector<Migration>& migrations);

// Recognises the one form of key addition the runner understands:
//   ALTER TABLE t ADD [UNIQUE] KEY|INDEX [IF NOT EXISTS] name (col, ...);
// (one key per statement, no prefix lengths). nullopt for any other statement.
std::optional<KeySpec> parse_add_key(std::string_view sql);

// Rows that share the columns of a unique key about to be added.
struct Duplicates {
  KeySpec key;
  int64_t groups = 0;                // distinct values held by more than one row
  int64_t rows = 0;                  // rows in those groups
  std::vector<std::string> samples;  // first groups: "user_id=2, voucher_id=7: 2 rows (id 5, 9)"
  std::string primary_key;           // single-column primary key of the table, or empty
  std::vector<std::string> resolve;  // the migration's "-- resolve:" advice
};

// Finds the rows that would make adding `key` fail; at most `samples` groups are listed.
Result<Duplicates> find_duplicates(Connection& conn, const KeySpec& key, size_t samples = 20);

struct MigrateOptions {
  bool dry_run = false;  // report what would run (and any blocking rows); change nothing
  std::function<void(std::string_view)> print;  // one line of progress, without newline
};

enum class MigrateOutcome {
  kUpToDate,    // nothing pending
  kApplied,     // every pending migration applied
  kWouldApply,  // dry run: pending migrations can be applied
  kBlocked,     // rows violate a unique key to be added; nothing changed
  kFailed,      // a statement failed or MariaDB is unreachable (see the printed lines)
};

struct MigrateReport {
  MigrateOutcome outcome = MigrateOutcome::kFailed;
  int from_version = 0;  // 0: no schema_version table
  int to_version = 0;
  int applied = 0;
  std::vector<Duplicates> blocking;
};

// Applies the migrations that schema_version does not list, in version order. Before changing
// anything it checks every unique key the pending migrations add against the rows present and
// stops with kBlocked if any would fail. DDL commits implicitly in MariaDB, so a migration with
// DDL runs statement by statement (each written to be re-runnable: IF [NOT] EXISTS), and its
// version row is written after its last statement; a migration of only data statements runs in
// one transaction together with its version row. One runner per database at a time (GET_LOCK).
MigrateReport migrate(Connection& conn, const std::vector<Migration>& migrations,
                      const MigrateOptions& options);

}  // namespace surge::db
