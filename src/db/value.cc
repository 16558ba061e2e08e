// Helpers for text-form rows.
#include "db/value.h"

#include <charconv>

namespace surge::db {

std::optional<int64_t> to_int64(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || end != v->data() + v->size()) return std::nullopt;
  return out;
}

std::optional<double> to_double(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  double out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || end != v->data() + v->size()) return std::nullopt;
  return out;
}

}  // namespace surge::db
