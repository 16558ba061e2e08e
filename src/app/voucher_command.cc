// Flags to a db::Voucher, then sale::create_flash_sale.
#include "app/voucher_command.h"

#include <chrono>

#include <fmt/format.h>

#include "app/command_stores.h"
#include "core/parse.h"
#include "db/voucher_repository.h"
#include "sale/new_sale.h"

namespace surge::app {

namespace {

namespace asio = boost::asio;

// "2026-12-01T10:00:00", with a space for the T, and with or without a trailing Z: UTC.
std::optional<int64_t> parse_utc(std::string_view s) {
  if (s.ends_with('Z')) s.remove_suffix(1);
  return core::parse_datetime_ms(s);
}

}  // namespace

std::variant<SaleWindow, std::string> sale_window(const std::string& begin, const std::string& end,
                                                  std::optional<int64_t> minutes, int64_t now_ms) {
  SaleWindow w{now_ms, 0};
  if (!begin.empty()) {
    auto b = parse_utc(begin);
    if (!b) return "--begin: expected YYYY-MM-DDTHH:MM:SS (UTC), got '" + begin + "'";
    w.begin_ms = *b;
  }
  if (!end.empty()) {
    auto e = parse_utc(end);
    if (!e) return "--end: expected YYYY-MM-DDTHH:MM:SS (UTC), got '" + end + "'";
    w.end_ms = *e;
  } else {
    w.end_ms = w.begin_ms + minutes.value_or(60) * 60'000;
  }
  if (w.end_ms <= w.begin_ms) return std::string("the sale must end after it begins");
  return w;
}

void add_voucher_command(CLI::App& cli, VoucherCommand& cmd) {
  cmd.self = cli.add_subcommand("voucher", "Vouchers");
  cmd.self->require_subcommand(1);
  cmd.create = cmd.self->add_subcommand(
      "create",
      "Create a flash-sale voucher as POST /voucher/seckill does (MariaDB, then the sale's Redis "
      "state, so it sells at once); prints its id");
  auto* c = cmd.create;
  add_store_flags(*c, cmd.config);
  add_order_shards_flag(*c, cmd.config);
  c->add_option("--shop", cmd.shop_id, "Shop id")->required()->check(CLI::PositiveNumber);
  c->add_option("--title", cmd.title, "Title")->required();
  c->add_option("--sub-title", cmd.sub_title, "Subtitle");
  c->add_option("--rules", cmd.rules, "Rules text");
  c->add_option("--value", cmd.value, "What the voucher is worth, in fen")
      ->required()
      ->check(CLI::Range(int64_t{0}, sale::kMaxValue));
  c->add_option("--pay", cmd.pay, "Its price, in fen")
      ->required()
      ->check(CLI::Range(int64_t{0}, sale::kMaxValue));
  c->add_option("--stock", cmd.stock, "Units on sale")
      ->required()
      ->check(CLI::Range(int64_t{1}, sale::kMaxStock));
  c->add_option("--begin", cmd.begin, "Sale start, YYYY-MM-DDTHH:MM:SS UTC (default: now)");
  auto* end = c->add_option("--end", cmd.end, "Sale end, YYYY-MM-DDTHH:MM:SS UTC");
  auto* minutes = c->add_option("--minutes", cmd.minutes, "Sale length (default 60)")
                      ->check(CLI::Range(int64_t{1}, int64_t{60} * 24 * 366 * 20));
  end->excludes(minutes);
}

int run_voucher(const VoucherCommand& cmd) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto window = sale_window(cmd.begin, cmd.end, cmd.minutes, now);
  if (auto* bad = std::get_if<std::string>(&window)) {
    fmt::print(stderr, "voucher create: {}\n", *bad);
    return kExitUsage;
  }
  db::Voucher v;
  v.shop_id = cmd.shop_id;
  v.title = cmd.title;
  v.sub_title = cmd.sub_title;
  v.rules = cmd.rules;
  v.actual_value = cmd.value;
  v.pay_value = cmd.pay;
  v.stock = cmd.stock;
  v.begin_ms = std::get<SaleWindow>(window).begin_ms;
  v.end_ms = std::get<SaleWindow>(window).end_ms;
  if (auto bad = sale::check_flash_sale(v)) {
    fmt::print(stderr, "voucher create: {}\n", *bad);
    return kExitUsage;
  }
  sale::FlashSale sale(cmd.config.order_shards);
  return run_command(cmd.config, "voucher", true, [&](CommandStores& s) -> asio::awaitable<int> {
    db::VoucherRepository vouchers(*s.pool);
    auto id = co_await sale::create_flash_sale(vouchers, sale, s.redis, v);
    if (!id) {
      fmt::print(stderr, "voucher create: {}\n", id.error().message());
      co_return kExitUsage;
    }
    fmt::print("{}\n", *id);
    co_return kExitOk;
  });
}

}  // namespace surge::app
