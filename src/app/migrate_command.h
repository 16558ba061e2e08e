// `surge migrate [--dry-run]`: brings the configured database to this binary's schema version.
#pragma once

#include "app/config.h"

namespace surge::app {

// Exit codes of `surge migrate` (and of `surge seed`, which migrates first).
inline constexpr int kMigrateOk = 0;
inline constexpr int kMigrateFailed = 1;
inline constexpr int kMigrateUnreachable = 2;
inline constexpr int kMigrateBlocked = 3;  // rows violate a unique key to be added

// Prints progress and timing to stdout; returns one of the exit codes above.
int run_migrate(const Config& config, bool dry_run);

}  // namespace surge::app
