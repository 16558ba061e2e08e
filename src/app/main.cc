// The `surge` command: serve the API, migrate the schema, load the data set, reconcile, list
// routes, and the operator commands (orders, cache, voucher).
#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "app/cache_command.h"
#include "app/command_stores.h"
#include "app/config.h"
#include "app/migrate_command.h"
#include "app/orders_command.h"
#include "app/reconcile.h"
#include "app/routes.h"
#include "app/seed.h"
#include "app/service.h"
#include "app/voucher_command.h"
#include "common/log.h"

namespace surge::app {
// "surge <version> (commit <hash>)"; generated at build time by cmake/version.cmake.
std::string_view build_version();
}  // namespace surge::app

int main(int argc, char** argv) {
  using namespace surge::app;
  CLI::App cli{"Surge: a high-concurrency shop and flash-sale backend (hm-dianping API)"};
  cli.set_version_flag("--version", std::string(build_version()));
  cli.require_subcommand(1);

  Config config;
  auto* serve_cmd = cli.add_subcommand("serve", "Serve the HTTP API");
  add_http_flags(*serve_cmd, config);
  add_store_flags(*serve_cmd, config);

  serve_cmd
      ->add_flag("--allow-degraded-schema", config.allow_degraded_schema,
                 "Start even if the schema lacks keys the guarantees need (see `surge migrate`)")
      ->envname("SURGE_ALLOW_DEGRADED_SCHEMA");

  Config migrate_config;
  bool dry_run = false;
  auto* migrate_cmd = cli.add_subcommand(
      "migrate", "Bring the database (hm-dianping, empty or older Surge) to the current schema");
  add_store_flags(*migrate_cmd, migrate_config);
  migrate_cmd->add_flag("--dry-run", dry_run,
                        "Report pending steps and rows in the way; change nothing");

  Config seed_config;
  SeedOptions seed_options;
  auto* seed_cmd = cli.add_subcommand(
      "seed", "Migrate the schema, then load the data set if the database has none");
  add_store_flags(*seed_cmd, seed_config);
  add_seed_flags(*seed_cmd, seed_options);

  Config reconcile_config;
  bool repair = false;
  std::vector<int64_t> only_vouchers;
  auto* reconcile_cmd = cli.add_subcommand(
      "reconcile",
      "Compare the flash sale's Redis stock and buyers with MariaDB's orders, voucher by voucher");
  add_store_flags(*reconcile_cmd, reconcile_config);
  add_order_shards_flag(*reconcile_cmd, reconcile_config);
  reconcile_cmd->add_option("--voucher", only_vouchers, "Only these vouchers (repeatable)");
  reconcile_cmd->add_flag("--repair", repair,
                          "Make Redis agree with MariaDB plus the queued orders (refused for a "
                          "voucher whose sale window is open or whose orders are queued)");

  OrdersCommand orders;
  add_orders_command(cli, orders);
  CacheCommand cache;
  add_cache_command(cli, cache);
  VoucherCommand voucher;
  add_voucher_command(cli, voucher);

  auto* routes_cmd = cli.add_subcommand(
      "routes", "Print every HTTP route as METHOD PATTERN ACCESS (public or login)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; every usage error is exit 2, whatever CLI11's
    // own code for it, so scripts can tell a bad invocation from a failed run.
    return cli.exit(e) == 0 ? 0 : kExitUsage;
  }

  try {
    if (*serve_cmd) {
      if (!surge::init_logging(config.log_level)) {
        spdlog::warn("unknown log level '{}'; using info", config.log_level);
      }
      return serve(config);
    }
    if (*routes_cmd) return print_routes();
    if (*reconcile_cmd) {
      surge::init_logging(reconcile_config.log_level);
      return run_reconcile(reconcile_config, repair, only_vouchers);
    }
    if (*orders.self) {
      surge::init_logging(orders.config.log_level);
      return run_orders(orders);
    }
    if (*cache.self) {
      surge::init_logging(cache.config.log_level);
      return run_cache(cache);
    }
    if (*voucher.self) {
      surge::init_logging(voucher.config.log_level);
      return run_voucher(voucher);
    }
    if (*migrate_cmd) {
      surge::init_logging(migrate_config.log_level);
      return run_migrate(migrate_config, dry_run);
    }
    surge::init_logging(seed_config.log_level);
    return run_seed(seed_config, seed_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "surge: fatal: %s\n", e.what());
    return 1;
  }
}
