// Building blocks for statements: "?, ?, ?" placeholders and their parameters, so variable-length
// IN (...) / FIELD(...) queries stay prepared statements; and the bound on page offsets.
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

// The deepest row a public page may start at. OFFSET makes the server read and discard every
// row before the page, so an unbounded offset is a cheap way to keep a pool connection busy;
// pages beyond this answer kInvalidArgument without touching the database.
constexpr int64_t kMaxOffset = 10000;

inline bool page_allowed(int64_t offset, int64_t limit) {
  return offset >= 0 && offset <= kMaxOffset && limit >= 0 && limit <= 1000;
}

inline std::string text_or_empty(const std::optional<std::string>& v) { return v ? *v : ""; }

}  // namespace surge::db
