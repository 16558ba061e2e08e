// Values crossing the database boundary: statement parameters and text-form result rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace surge::db {

using Param = std::variant<std::nullptr_t, int64_t, double, std::string>;
using Params = std::vector<Param>;

// A result set with every value in MariaDB's text form (NULL as nullopt). Small and simple:
// the API reads a handful of rows at a time, and the caches in front absorb the volume.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

struct ExecResult {
  uint64_t affected_rows = 0;
  uint64_t insert_id = 0;
};

// Typed reads of a text value; nullopt for NULL or unparsable text.
std::optional<int64_t> to_int64(const std::optional<std::string>& v);
std::optional<double> to_double(const std::optional<std::string>& v);

}  // namespace surge::db
