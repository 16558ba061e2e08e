// Prometheus text format: "# HELP", "# TYPE", then `name{labels} value` lines.
#include "core/exposition.h"

#include <iterator>

#include <fmt/format.h>

namespace surge::core {

namespace {

// HELP text escapes backslash and newline only.
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

Exposition& Exposition::family(std::string_view name, std::string_view type,
                               std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} ", name);
  append_help(out_, help);
  fmt::format_to(std::back_inserter(out_), "\n# TYPE {} {}\n", name, type);
  return *this;
}

Exposition& Exposition::write_sample(std::string_view name, std::string_view labels,
                                     std::string_view value) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
  }
  return *this;
}

Exposition& Exposition::single(std::string_view name, std::string_view type, std::string_view help,
                               uint64_t value) {
  return family(name, type, help).sample(name, "", value);
}

}  // namespace surge::core
