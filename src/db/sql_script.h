// Cutting a SQL file (schema migrations, the seed generator) into statements the C++ runners
// send one at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace surge::db {

struct SqlStatement {
  std::string step;  // label from the last "-- step:" comment, or empty
  std::string sql;
  // Text of the "-- resolve:" comment lines just before this statement (one entry per line):
  // advice a runner prints when the statement cannot be applied to the data as it is.
  std::vector<std::string> resolve;
};

// Splits a SQL file: statements end with ';' at the end of a line; "-- " lines are comments.
// No parsing of quotes: a ';' at the end of a line inside a string literal would cut it.
std::vector<SqlStatement> split_sql(std::string_view text);

}  // namespace surge::db
