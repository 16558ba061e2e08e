// `surge orders [--voucher ID]`, `surge orders dead`, `surge orders replay`: the order
// pipeline per voucher and per shard, its dead letters, and their replay after a fix.
#pragma once

#include <cstdint>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config.h"

namespace surge::app {

struct OrdersCommand {
  Config config;
  std::vector<int64_t> vouchers;  // --voucher (repeatable); empty: all
  std::vector<int64_t> orders;    // replay --order (repeatable)
  bool all = false;               // replay --all
  CLI::App* self = nullptr;
  CLI::App* dead = nullptr;
  CLI::App* replay = nullptr;
};

// Registers `orders` and its subcommands on `cli`; `cmd` receives the flags.
void add_orders_command(CLI::App& cli, OrdersCommand& cmd);
// Exit code: 0 done; 1 replay found nothing to replay or left some dead letters in place;
// 2 a store could not be reached or read.
int run_orders(const OrdersCommand& cmd);

}  // namespace surge::app
