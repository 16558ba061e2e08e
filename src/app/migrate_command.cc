// Glue between the command line and db::migrate.
#include "app/migrate_command.h"

#include <cstdio>

#include <fmt/format.h>

#include "db/migrate.h"

namespace surge::app {

int run_migrate(const Config& config, bool dry_run) {
  db::Connection conn(config.db);
  if (auto r = conn.ping(); !r) {
    fmt::print(stderr, "migrate: cannot reach MariaDB ({})\n", r.error().message());
    return kMigrateUnreachable;
  }
  db::MigrateOptions options;
  options.dry_run = dry_run;
  options.print = [](std::string_view line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  auto report = db::migrate(conn, db::bundled_migrations(), options);
  switch (report.outcome) {
    case db::MigrateOutcome::kUpToDate:
    case db::MigrateOutcome::kApplied:
    case db::MigrateOutcome::kWouldApply:
      return kMigrateOk;
    case db::MigrateOutcome::kBlocked:
      return kMigrateBlocked;
    case db::MigrateOutcome::kFailed:
      break;
  }
  return kMigrateFailed;
}

}  // namespace surge::app
