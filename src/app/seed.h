// `surge seed`: migrates the schema to the current version and loads the deterministic data set
// (sql/seed.sql).
#pragma once

#include "app/config.h"

namespace surge::app {

// Returns a process exit code; prints progress to stdout.
int run_seed(const Config& config, const SeedOptions& options);

}  // namespace surge::app
