// Prometheus text format: "# HELP", "# TYPE", then `name{labels} value` lines.
#include "core/exposition.h"

#include <cstdlib>
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

namespace {

// Parses `name{k="v",...} value` from the start of `line`; false when it is malformed.
bool parse_sample_line(std::string_view line, ParsedSample& out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  if (i == 0) return false;
  out.name.assign(line.substr(0, i));
  out.labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
        return false;
      }
      std::string key(line.substr(i, eq - i));
      std::string value;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return false;
      out.labels.emplace_back(std::move(key), std::move(value));
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  while (i < line.size() && line[i] == ' ') ++i;
  std::string number(line.substr(i, line.find(' ', i) - i));  // a timestamp may follow
  if (number.empty()) return false;
  char* end = nullptr;
  out.value = std::strtod(number.c_str(), &end);
  return end == number.c_str() + number.size();
}

}  // namespace

std::vector<ParsedSample> parse_exposition(std::string_view text) {
  std::vector<ParsedSample> samples;
  ParsedSample s;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (parse_sample_line(line, s)) samples.push_back(s);
  }
  return samples;
}

}  // namespace surge::core
