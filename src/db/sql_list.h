// Building blocks for statements over id lists: "?, ?, ?" placeholders and their parameters, so
// variable-length IN (...) / FIELD(...) queries stay prepared statements.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/value.h"

namespace surge::db {

inline std::string placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

inline void append_ids(Params& params, const std::vector<int64_t>& ids) {
  for (int64_t id : ids) params.emplace_back(id);
}

// "WHERE id IN (?, ...) ORDER BY FIELD(id, ?, ...)": the rows of `ids` in the order of `ids`
// (the original's ORDER BY FIELD); appends the parameters.
inline std::string where_id_in_order(const std::vector<int64_t>& ids, Params& params) {
  std::string marks = placeholders(ids.size());
  append_ids(params, ids);
  append_ids(params, ids);
  return "WHERE id IN (" + marks + ") ORDER BY FIELD(id, " + marks + ")";
}

inline std::string text_or_empty(const std::optional<std::string>& v) { return v ? *v : ""; }

}  // namespace surge::db
