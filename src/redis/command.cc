// RESP array-of-bulk-strings encoder.
#include "redis/command.h"

#include <charconv>

#include <fmt/format.h>

namespace surge::redis {

namespace {

// "<prefix><n>\r\n": the array and bulk-string headers, built without a format string (they
// are written for every argument of every command).
void append_header(std::string& out, char prefix, uint64_t n) {
  char buf[24];
  buf[0] = prefix;
  auto end = std::to_chars(buf + 1, buf + sizeof buf - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, end);
}

}  // namespace

Command& Command::begin(size_t argc) {
  append_header(wire_, '*', argc);
  ++replies_;
  return *this;
}

Command& Command::arg(std::string_view a) {
  append_header(wire_, '$', a.size());
  wire_.append(a);
  wire_.append("\r\n");
  return *this;
}

Command& Command::arg(int64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return arg(std::string_view(buf, static_cast<size_t>(end - buf)));
}

Command& Command::arg(uint64_t v) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return arg(std::string_view(buf, static_cast<size_t>(end - buf)));
}

Command& Command::arg(double v) {
  // Shortest round-trip form, which Redis parses back to the same double.
  char buf[40];
  auto n = fmt::format_to_n(buf, sizeof buf, "{}", v).size;
  return arg(std::string_view(buf, n));
}

}  // namespace surge::redis
