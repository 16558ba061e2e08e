// Line-based SQL splitting with step labels and resolution notes.
#include "db/sql_script.h"

namespace surge::db {

namespace {

// Spaces, tabs and carriage returns off both ends; newlines are the splitter's to see.
std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::vector<SqlStatement> split_sql(std::string_view text) {
  std::vector<SqlStatement> out;
  std::string step;
  std::string pending;
  std::vector<std::string> resolve;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view t = trim_blanks(line);
    if (t.starts_with("--")) {
      if (t.starts_with("-- step:")) step = std::string(trim_blanks(t.substr(8)));
      if (t.starts_with("-- resolve:")) resolve.emplace_back(trim_blanks(t.substr(11)));
      continue;
    }
    if (t.empty() && pending.empty()) continue;
    pending.append(line);
    pending.push_back('\n');
    if (t.ends_with(';')) {
      out.push_back({step, std::move(pending), std::move(resolve)});
      pending.clear();
      resolve.clear();
    }
  }
  if (!trim_blanks(pending).empty()) out.push_back({step, std::move(pending), std::move(resolve)});
  return out;
}

}  // namespace surge::db
