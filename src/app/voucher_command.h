// `surge voucher create`: a flash-sale voucher from flags, through the engine call
// POST /voucher/seckill makes (MariaDB rows, then the sale's Redis state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <CLI/CLI.hpp>

#include "app/config.h"

namespace surge::app {

struct VoucherCommand {
  Config config;
  int64_t shop_id = 0;
  std::string title, sub_title, rules;
  int64_t value = 0;  // actual value, fen
  int64_t pay = 0;    // price, fen
  int64_t stock = 0;
  std::string begin, end;  // ISO date-times (UTC); begin defaults to now
  std::optional<int64_t> minutes;
  CLI::App* self = nullptr;
  CLI::App* create = nullptr;
};

void add_voucher_command(CLI::App& cli, VoucherCommand& cmd);
// Prints the new voucher's id alone on stdout. Exit code: 0 created, 2 bad values or a store
// could not be reached or written.
int run_voucher(const VoucherCommand& cmd);

// The sale window from the flags: begin (default `now_ms`), then end, or begin + minutes
// (default 60). The message for a usage error otherwise. Pure, for the unit test.
struct SaleWindow {
  int64_t begin_ms = 0;
  int64_t end_ms = 0;
};
std::variant<SaleWindow, std::string> sale_window(const std::string& begin, const std::string& end,
                                                  std::optional<int64_t> minutes, int64_t now_ms);

}  // namespace surge::app
