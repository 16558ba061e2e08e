// What the connected database looks like (tables, keys, schema version) and whether it carries
// the keys Surge's guarantees rest on. Blocking calls on one db::Connection: for start-up and
// the `surge migrate` command, never for an io_context thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"

namespace surge::db {

// One index of a table, columns in index order. The primary key is a unique index "PRIMARY".
struct IndexInfo {
  std::string name;
  bool unique = false;
  std::vector<std::string> columns;
};

// A key that a migration adds or the guarantees need.
struct KeySpec {
  std::string table;
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
};

// Tables and their indexes in the connection's current database.
struct SchemaSnapshot {
  std::set<std::string> tables;
  std::map<std::string, std::vector<IndexInfo>> indexes;

  bool has_table(const std::string& t) const { return tables.contains(t); }
  // An existing index that serves `key`, whatever its name: for a unique key, a unique index on
  // the same set of columns (their order does not change what is unique); for a lookup index,
  // any index that starts with the same columns in the same order. Failing that, an index of
  // the same name (MariaDB's IF NOT EXISTS goes by name). nullptr if none.
  const IndexInfo* find(const KeySpec& key) const;
  // The single-column primary key of `table`, or empty.
  std::string primary_key(const std::string& table) const;
};

Result<SchemaSnapshot> read_snapshot(Connection& conn);

// The table that records applied migrations (created by `surge migrate`).
inline constexpr std::string_view kVersionTable = "schema_version";
// Highest applied migration, or nullopt if the database has no version table (never migrated).
Result<std::optional<int>> read_schema_version(Connection& conn);

// A unique key Surge relies on, and what is not guaranteed without it.
struct RequiredKey {
  KeySpec key;
  std::string_view guarantees;
};
const std::vector<RequiredKey>& required_keys();

struct SchemaCheck {
  std::optional<int> version;  // nullopt: no schema_version table
  int expected = 0;            // the newest migration this binary carries
  std::vector<RequiredKey> missing_keys;
  std::vector<KeySpec> missing_indexes;  // lookup indexes: speed, not correctness

  bool behind() const { return !version || *version < expected; }
  bool guaranteed() const { return !behind() && missing_keys.empty(); }
};

// Compares the database with what this binary's migrations produce.
Result<SchemaCheck> check_schema(Connection& conn);

// The start-up check of `surge serve`: logs what is missing and returns false if serving must
// not start (version behind, a required key missing, or MariaDB unreachable). With
// allow_degraded it logs the same as warnings, says what is not guaranteed, and returns true.
bool verify_schema_at_start(const Options& options, bool allow_degraded);

// "tb_follow (user_id, follow_user_id)"
std::string describe(const KeySpec& key);

}  // namespace surge::db
