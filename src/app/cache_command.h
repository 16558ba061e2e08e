// `surge cache stats [--class C]` and `surge cache flush [--class C]`: the read-through caches'
// Redis keys per key class.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config.h"

namespace surge::app {

struct CacheCommand {
  Config config;
  std::vector<std::string> classes;  // --class (repeatable); empty: every class
  CLI::App* self = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* flush = nullptr;
};

void add_cache_command(CLI::App& cli, CacheCommand& cmd);
// Exit code: 0 done, 2 Redis could not be reached or read.
int run_cache(const CacheCommand& cmd);

}  // namespace surge::app
