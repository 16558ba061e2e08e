// Printing for `surge orders`; the reading and moving is sale::OrderQueues.
#include "app/orders_command.h"

#include <algorithm>

#include <fmt/format.h>

#include "app/command_stores.h"
#include "db/voucher_repository.h"
#include "sale/order_queues.h"

namespace surge::app {

namespace {

namespace asio = boost::asio;

asio::awaitable<int> summary(CommandStores& s, const sale::OrderQueues& queues,
                             const OrdersCommand& cmd) {
  db::VoucherRepository vouchers(*s.pool);
  // Named: GCC destroys a braced temporary in a co_await expression twice.
  sale::OrderQueues::Selection selection{.only = cmd.vouchers};
  auto sum = co_await queues.summary(s.redis, vouchers, selection);
  if (!sum) {
    fmt::print(stderr, "orders: cannot read the order state: {}\n", sum.error().message());
    co_return kExitUsage;
  }
  fmt::print("{:>20} {:>10} {:>10} {:>10} {:>10} {:>6}\n", "voucher", "stock", "accepted", "queued",
             "persisted", "dead");
  int64_t queued = 0, persisted = 0, dead = 0;
  for (const auto& v : sum->vouchers) {
    fmt::print("{:>20} {:>10} {:>10} {:>10} {:>10} {:>6}\n", v.voucher_id, v.stock, v.accepted,
               v.queued, v.persisted, v.dead);
    queued += v.queued;
    persisted += v.persisted;
    dead += v.dead;
  }
  fmt::print("\n{:>5} {:>10} {:>10} {:>10} {:>6}\n", "shard", "stream", "unread", "pending",
             "dead");
  for (const auto& b : sum->shards) {
    fmt::print("{:>5} {:>10} {:>10} {:>10} {:>6}{}\n", b.shard, b.length, b.unread, b.pending,
               b.dead_letters, b.grouped || b.length == 0 ? "" : "  (no order writer has read it)");
  }
  fmt::print("\norders: {} vouchers, {} queued, {} persisted, {} dead-lettered\n",
             sum->vouchers.size(), queued, persisted, dead);
  co_return kExitOk;
}

std::string describe(const sale::OrderQueues::DeadLetter& d) {
  auto or_unknown = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("?");
  };
  return fmt::format("order {} user {} voucher {}", or_unknown(d.order_id), or_unknown(d.user_id),
                     or_unknown(d.voucher_id));
}

asio::awaitable<int> list_dead(CommandStores& s, const sale::OrderQueues& queues,
                               const OrdersCommand& cmd) {
  auto dead = co_await queues.dead_letters(s.redis, cmd.vouchers);
  if (!dead) {
    fmt::print(stderr, "orders dead: cannot read the dead letters: {}\n", dead.error().message());
    co_return kExitUsage;
  }
  for (const auto& d : *dead) {
    fmt::print("{}  shard {} entry {}  reason: {}\n", describe(d), d.shard, d.entry,
               d.reason.empty() ? "(none recorded)" : d.reason);
  }
  fmt::print("orders dead: {} dead letters\n", dead->size());
  co_return kExitOk;
}

asio::awaitable<int> replay(CommandStores& s, const sale::OrderQueues& queues,
                            const OrdersCommand& cmd) {
  auto dead = co_await queues.dead_letters(s.redis, cmd.vouchers);
  if (!dead) {
    fmt::print(stderr, "orders replay: cannot read the dead letters: {}\n", dead.error().message());
    co_return kExitUsage;
  }
  if (!cmd.all) {
    std::erase_if(*dead, [&](const auto& d) {
      return !d.order_id ||
             std::find(cmd.orders.begin(), cmd.orders.end(), *d.order_id) == cmd.orders.end();
    });
    for (int64_t o : cmd.orders) {
      if (std::none_of(dead->begin(), dead->end(),
                       [o](const auto& d) { return d.order_id == o; })) {
        fmt::print("order {}: no dead letter\n", o);
      }
    }
  }
  size_t replayed = 0, left = 0;
  for (const auto& d : *dead) {
    auto r = co_await queues.replay(s.redis, d);
    if (!r) {
      fmt::print(stderr, "orders replay: {}: {}\n", describe(d), r.error().message());
      co_return kExitUsage;
    }
    switch (*r) {
      case sale::OrderQueues::Replay::kReplayed:
        ++replayed;
        fmt::print("{}: back in the order stream of shard {}\n", describe(d), d.shard);
        break;
      case sale::OrderQueues::Replay::kGone:
        fmt::print("{}: already replayed or removed meanwhile\n", describe(d));
        break;
      case sale::OrderQueues::Replay::kMalformed:
        ++left;
        fmt::print("{}: not a whole order, left in the dead-letter stream (entry {})\n",
                   describe(d), d.id);
        break;
    }
  }
  fmt::print("orders replay: {} replayed, {} left in place\n", replayed, left);
  if (replayed) {
    fmt::print(
        "orders replay: the order writers persist them (or dead-letter them again if the cause "
        "remains); `surge orders` shows where they are\n");
  }
  bool missing = !cmd.all && replayed < cmd.orders.size();
  co_return left || missing ? kExitFound : kExitOk;
}

}  // namespace

void add_orders_command(CLI::App& cli, OrdersCommand& cmd) {
  cmd.self = cli.add_subcommand(
      "orders",
      "Flash-sale orders per voucher (stock left, accepted, queued, persisted, dead-lettered) and "
      "each shard's "
      "stream backlog; `dead` lists dead letters, `replay` sends them back to the order writers");
  cmd.self->require_subcommand(0, 1);
  add_store_flags(*cmd.self, cmd.config);
  add_order_shards_flag(*cmd.self, cmd.config);
  cmd.self->add_option("--voucher", cmd.vouchers, "Only these vouchers (repeatable)")
      ->check(CLI::PositiveNumber);

  cmd.dead = cmd.self->add_subcommand(
      "dead", "List dead letters: order, user, voucher, shard, original entry and reason");
  cmd.dead->fallthrough();

  cmd.replay = cmd.self->add_subcommand(
      "replay",
      "Move dead letters back into their order stream (the queued marker too), so the order "
      "writers persist them once; run it after fixing what refused them");
  cmd.replay->fallthrough();
  auto* order =
      cmd.replay->add_option("--order", cmd.orders, "This order's dead letter (repeatable)")
          ->check(CLI::PositiveNumber);
  auto* all = cmd.replay->add_flag("--all", cmd.all,
                                   "Every dead letter (of the --voucher vouchers when given)");
  order->excludes(all);
  cmd.replay->require_option(1);
}

int run_orders(const OrdersCommand& cmd) {
  sale::FlashSale sale(cmd.config.order_shards);
  sale::OrderQueues queues(sale);
  return run_command(cmd.config, "orders", true, [&](CommandStores& s) -> asio::awaitable<int> {
    if (*cmd.dead) co_return co_await list_dead(s, queues, cmd);
    if (*cmd.replay) co_return co_await replay(s, queues, cmd);
    co_return co_await summary(s, queues, cmd);
  });
}

}  // namespace surge::app
