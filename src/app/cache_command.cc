// Printing for `surge cache`; the scanning and deleting is cache/key_classes.
#include "app/cache_command.h"

#include <fmt/format.h>

#include "app/command_stores.h"
#include "cache/key_classes.h"

namespace surge::app {

namespace {

namespace asio = boost::asio;

asio::awaitable<int> stats(redis::Client& r, const std::vector<std::string>& classes) {
  fmt::print("{:<10} {:>10} {:>10} {:>14} {:>10} {:>6}\n", "class", "entries", "nulls", "bytes",
             "versions", "locks");
  for (const auto& name : classes) {
    auto st = co_await cache::class_stats(r, name);
    if (!st) {
      fmt::print(stderr, "cache stats: {}: {}\n", name, st.error().message());
      co_return kExitUsage;
    }
    fmt::print("{:<10} {:>10} {:>10} {:>14} {:>10} {:>6}\n", st->name, st->entries, st->nulls,
               st->bytes, st->versions, st->locks);
  }
  // Near caches live in each serving process; their hit counts are in its /metrics.
  fmt::print(
      "near caches: per instance, see surge_cache_requests_total{{result=\"near_hit\"}} "
      "in /metrics\n");
  co_return kExitOk;
}

asio::awaitable<int> flush(redis::Client& r, const std::vector<std::string>& classes) {
  for (const auto& name : classes) {
    auto n = co_await cache::flush_class(r, name);
    if (!n) {
      fmt::print(stderr, "cache flush: {}: {}\n", name, n.error().message());
      co_return kExitUsage;
    }
    fmt::print(
        "cache flush: {}: {} keys deleted; running instances told to drop their near "
        "caches\n",
        name, *n);
  }
  co_return kExitOk;
}

}  // namespace

void add_cache_command(CLI::App& cli, CacheCommand& cmd) {
  cmd.self = cli.add_subcommand("cache", "The read-through caches' Redis keys, per key class");
  cmd.self->require_subcommand(1);
  add_store_flags(*cmd.self, cmd.config);
  std::string names;
  for (const auto& c : cache::key_classes()) names += (names.empty() ? "" : ", ") + c;
  cmd.self
      ->add_option("--class", cmd.classes,
                   "Only this key class (repeatable): " + names + "; default all")
      ->check(CLI::IsMember(cache::key_classes()));
  cmd.stats = cmd.self->add_subcommand(
      "stats", "Count entries, null markers, value bytes, versions and held rebuild locks (SCAN)");
  cmd.stats->fallthrough();
  cmd.flush = cmd.self->add_subcommand(
      "flush",
      "Delete the class's entries (SCAN + UNLINK in batches) and tell running instances to drop "
      "their near caches; items load again on their next read");
  cmd.flush->fallthrough();
}

int run_cache(const CacheCommand& cmd) {
  auto classes = cmd.classes.empty() ? cache::key_classes() : cmd.classes;
  return run_command(cmd.config, "cache", false, [&](CommandStores& s) -> asio::awaitable<int> {
    if (*cmd.flush) co_return co_await flush(s.redis, classes);
    co_return co_await stats(s.redis, classes);
  });
}

}  // namespace surge::app
