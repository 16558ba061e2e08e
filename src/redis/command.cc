// RESP array-of-bulk-strings encoder.
#include "redis/command.h"

#include <fmt/format.h>

namespace surge::redis {

Command& Command::begin(size_t argc) {
  fmt::format_to(std::back_inserter(wire_), "*{}\r\n", argc);
  ++replies_;
  return *this;
}

Command& Command::arg(std::string_view a) {
  fmt::format_to(std::back_inserter(wire_), "${}\r\n", a.size());
  wire_.append(a);
  wire_.append("\r\n");
  return *this;
}

Command& Command::arg(int64_t v) {
  char buf[24];
  auto n = fmt::format_to_n(buf, sizeof buf, "{}", v).size;
  return arg(std::string_view(buf, n));
}

Command& Command::arg(uint64_t v) {
  char buf[24];
  auto n = fmt::format_to_n(buf, sizeof buf, "{}", v).size;
  return arg(std::string_view(buf, n));
}

Command& Command::arg(double v) {
  // Shortest round-trip form, which Redis parses back to the same double.
  char buf[40];
  auto n = fmt::format_to_n(buf, sizeof buf, "{}", v).size;
  return arg(std::string_view(buf, n));
}

}  // namespace surge::redis
