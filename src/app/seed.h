// `surge seed`: creates the schema and loads the deterministic data set (sql/seed.sql).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"

namespace surge::app {

struct SqlStatement {
  std::string step;  // label from the last "-- step:" comment, or empty
  std::string sql;
};

// Splits a SQL file: statements end with ';' at the end of a line; "-- " lines are comments.
std::vector<SqlStatement> split_sql(std::string_view text);

// Returns a process exit code; prints progress to stdout.
int run_seed(const Config& config, const SeedOptions& options);

}  // namespace surge::app
