// Schema introspection through information_schema, and the start-up schema check.
#include "db/schema.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "db/migrate.h"

namespace surge::db {

const IndexInfo* SchemaSnapshot::find(const KeySpec& key) const {
  auto it = indexes.find(key.table);
  if (it == indexes.end()) return nullptr;
  for (const auto& index : it->second) {
    if (key.unique) {
      if (!index.unique || index.columns.size() != key.columns.size()) continue;
      if (std::is_permutation(index.columns.begin(), index.columns.end(), key.columns.begin())) {
        return &index;
      }
    } else if (index.columns.size() >= key.columns.size() &&
               std::equal(key.columns.begin(), key.columns.end(), index.columns.begin())) {
      return &index;
    }
  }
  for (const auto& index : it->second) {
    if (index.name == key.name) return &index;
  }
  return nullptr;
}

std::string SchemaSnapshot::primary_key(const std::string& table) const {
  auto it = indexes.find(table);
  if (it == indexes.end()) return {};
  for (const auto& index : it->second) {
    if (index.name == "PRIMARY" && index.columns.size() == 1) return index.columns[0];
  }
  return {};
}

Result<SchemaSnapshot> read_snapshot(Connection& conn) {
  SchemaSnapshot s;
  auto tables = conn.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()");
  if (!tables) return tables.error();
  for (const auto& r : tables->rows) s.tables.insert(r[0].value_or(""));
  auto rows = conn.query(
      "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
      "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX");
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) {
    auto& list = s.indexes[r[0].value_or("")];
    std::string name = r[1].value_or("");
    if (list.empty() || list.back().name != name) {
      list.push_back({name, to_int64(r[2]).value_or(1) == 0, {}});
    }
    list.back().columns.push_back(r[3].value_or(""));
  }
  return s;
}

Result<std::optional<int>> read_schema_version(Connection& conn) {
  auto exists = conn.query(
      fmt::format("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                  "AND TABLE_NAME = '{}'",
                  kVersionTable));
  if (!exists) return exists.error();
  if (exists->empty() || to_int64(exists->rows[0][0]).value_or(0) == 0) {
    return std::optional<int>();
  }
  auto rows = conn.query(fmt::format("SELECT COALESCE(MAX(version), 0) FROM {}", kVersionTable));
  if (!rows) return rows.error();
  return std::optional<int>(static_cast<int>(to_int64(rows->rows[0][0]).value_or(0)));
}

const std::vector<RequiredKey>& required_keys() {
  static const std::vector<RequiredKey> kKeys = {
      {{"tb_voucher_order", "uk_order_user_voucher", {"user_id", "voucher_id"}, true},
       "one order per user and voucher: a replayed or re-claimed order message could store a "
       "second order (and the sale could oversell by it)"},
      {{"tb_follow", "uk_follow_pair", {"user_id", "follow_user_id"}, true},
       "one follow row per pair: a repeated follow could store duplicates that unfollow and the "
       "follower counts then disagree about"},
      {{"tb_user", "uniqe_key_phone", {"phone"}, true},
       "one account per phone: two first logins at once could create two users"},
  };
  return kKeys;
}

std::string describe(const KeySpec& key) {
  std::string cols;
  for (const auto& c : key.columns) cols += (cols.empty() ? "" : ", ") + c;
  return fmt::format("{} ({})", key.table, cols);
}

Result<SchemaCheck> check_schema(Connection& conn) {
  SchemaCheck check;
  check.expected = latest_version(bundled_migrations());
  auto version = read_schema_version(conn);
  if (!version) return version.error();
  check.version = *version;
  auto snapshot = read_snapshot(conn);
  if (!snapshot) return snapshot.error();
  for (const auto& required : required_keys()) {
    if (!snapshot->find(required.key)) check.missing_keys.push_back(required);
  }
  // The lookup indexes are whatever the migrations add that is not unique.
  for (const auto& m : bundled_migrations()) {
    for (const auto& st : split_sql(m.text)) {
      auto key = parse_add_key(st.sql);
      if (key && !key->unique && !snapshot->find(*key)) check.missing_indexes.push_back(*key);
    }
  }
  return check;
}

bool verify_schema_at_start(const Options& options, bool allow_degraded) {
  Connection conn(options);
  std::vector<std::string> problems;
  auto check = check_schema(conn);
  if (!check) {
    problems.push_back(fmt::format(
        "cannot verify the schema of database '{}' ({}); MariaDB must be reachable at start",
        options.database, check.error().message()));
  } else {
    if (check->version && *check->version > check->expected) {
      spdlog::warn(
          "schema: database is at version {}, newer than this binary's {}; serving (migrations "
          "only add), but upgrade this instance",
          *check->version, check->expected);
    }
    for (const auto& k : check->missing_indexes) {
      spdlog::warn("schema: index missing on {}: lookups scan the table (run `surge migrate`)",
                   describe(k));
    }
    if (check->behind()) {
      problems.push_back(fmt::format(
          "schema version of database '{}' is {}, this binary needs {}", options.database,
          check->version ? std::to_string(*check->version) : "none (never migrated)",
          check->expected));
    }
    for (const auto& k : check->missing_keys) {
      problems.push_back(
          fmt::format("missing unique key {} ({} after `surge migrate`); not "
                      "guaranteed: {}",
                      describe(k.key), k.key.name, k.guarantees));
    }
  }
  if (problems.empty()) return true;
  for (const auto& p : problems) {
    if (allow_degraded) {
      spdlog::warn("schema: DEGRADED (--allow-degraded-schema): {}", p);
    } else {
      spdlog::error("schema: {}", p);
    }
  }
  if (allow_degraded) {
    spdlog::warn(
        "schema: serving anyway; the guarantees above do NOT hold until `surge migrate` "
        "has run");
    return true;
  }
  spdlog::error(
      "schema: refusing to start. Run `surge migrate` against this database (it reports rows "
      "that stand in the way), or start with --allow-degraded-schema to serve without these "
      "guarantees");
  return false;
}

}  // namespace surge::db
