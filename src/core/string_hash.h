// A hash for string-keyed unordered containers that also takes string_view (and with
// std::equal_to<> as the key equality, lookups by view): a lookup of a key that is already
// there builds no std::string.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace surge::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace surge::core
