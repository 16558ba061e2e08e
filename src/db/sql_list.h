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

inline std::string text_or_empty(const std::optional<std::string>& v) { return v ? *v : ""; }

}  // namespace surge::db
