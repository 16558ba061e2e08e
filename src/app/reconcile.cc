// Reconciliation of the flash sale. Differences while a sale is running can be transient (an
// order accepted between two reads), so a repair is refused for a voucher whose window is open
// or whose orders are queued; the report is safe at any time.
#include "app/reconcile.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "app/command_stores.h"
#include "core/reconcile.h"
#include "db/voucher_repository.h"
#include "sale/flash_sale.h"

namespace surge::app {

namespace {

namespace asio = boost::asio;

std::string join(const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 20; ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > 20) out += fmt::format(" and {} more", ids.size() - 20);
  return out;
}

// Empty when the voucher is quiet enough to repair: its sale window (with a minute's margin for
// clock differences with Redis, whose clock the sale script uses) is closed and none of its
// orders waits in a stream.
std::string why_not_quiet(const db::SaleState& st, const core::VoucherSnapshot& snap) {
  constexpr int64_t kMargin = 60'000;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  if (now >= st.begin_ms - kMargin && now < st.end_ms + kMargin) return "its sale window is open";
  if (!snap.queued_buyers.empty()) {
    return fmt::format("{} of its orders are queued", snap.queued_buyers.size());
  }
  return {};
}

asio::awaitable<int> reconcile(redis::Client& r, db::VoucherRepository& vouchers,
                               const sale::FlashSale& sale, bool repair,
                               std::vector<int64_t> only) {
  auto states = co_await vouchers.sale_states();
  if (!states) {
    fmt::print(stderr, "reconcile: cannot read vouchers: {}\n", states.error().message());
    co_return 2;
  }
  auto wanted = [&](int64_t voucher) {
    return only.empty() || std::find(only.begin(), only.end(), voucher) != only.end();
  };
  std::erase_if(*states, [&](const db::SaleState& st) { return !wanted(st.voucher_id); });
  // Queued buyers by voucher, over every shard.
  std::map<int64_t, std::set<int64_t>> queued;
  size_t dead_total = 0;
  int64_t queued_total = 0;
  for (int s = 0; s < sale.shards(); ++s) {
    auto q = co_await sale.queued_in(r, s);
    if (!q) {
      fmt::print(stderr, "reconcile: cannot read queued orders: {}\n", q.error().message());
      co_return 2;
    }
    for (const auto& o : *q) {
      if (!wanted(o.voucher_id)) continue;
      // A dead letter will never be persisted: its stock and buyer show up as differences.
      if (o.dead) {
        ++dead_total;
        continue;
      }
      queued[o.voucher_id].insert(o.user_id);
    }
  }
  size_t differing = 0, orders = 0, refused = 0;
  for (const auto& st : *states) {
    core::VoucherSnapshot snap;
    snap.db_stock = st.stock;
    auto db_buyers = co_await vouchers.buyers(st.voucher_id);
    auto in_redis = co_await sale.state_of(r, st.voucher_id);
    if (!db_buyers || !in_redis) {
      fmt::print(stderr, "reconcile: voucher {}: cannot read state\n", st.voucher_id);
      co_return 2;
    }
    snap.db_buyers = std::set<int64_t>(db_buyers->begin(), db_buyers->end());
    snap.redis_stock = in_redis->stock;
    snap.redis_buyers = std::move(in_redis->buyers);
    if (auto it = queued.find(st.voucher_id); it != queued.end()) snap.queued_buyers = it->second;
    orders += snap.db_buyers.size();
    auto d = core::compare(snap);
    queued_total += d.queued;
    if (d.clean()) continue;
    ++differing;
    if (d.missing_state) {
      fmt::print("voucher {}: no sale state in Redis (expected stock {})\n", st.voucher_id,
                 d.expected_stock);
    }
    if (d.stock_differs) {
      fmt::print("voucher {}: Redis stock {} but MariaDB stock {} less {} queued = {}\n",
                 st.voucher_id, *snap.redis_stock, st.stock, d.queued, d.expected_stock);
    }
    if (!d.lost.empty()) {
      fmt::print("voucher {}: {} buyers in Redis with no order persisted or queued: {}\n",
                 st.voucher_id, d.lost.size(), join(d.lost));
    }
    if (!d.missing.empty()) {
      fmt::print("voucher {}: {} persisted orders whose buyer Redis does not know: {}\n",
                 st.voucher_id, d.missing.size(), join(d.missing));
    }
    if (!repair) continue;
    // The repair writes an absolute stock computed from reads that were not atomic: while the
    // sale can still take orders, or orders wait to be persisted, it could hand back a unit that
    // was just sold. Such a voucher is left alone.
    if (auto busy = why_not_quiet(st, snap); !busy.empty()) {
      fmt::print("voucher {}: not repaired: {}\n", st.voucher_id, busy);
      ++refused;
      continue;
    }
    // Redis is made to agree with MariaDB plus the queued orders: lost buyers may buy again and
    // their stock returns; persisted buyers cannot buy twice.
    auto done = co_await sale.repair(r, st, d.expected_stock, d.lost, d.missing);
    if (!done) {
      fmt::print(stderr, "reconcile: voucher {}: repair failed: {}\n", st.voucher_id,
                 done.error().message());
      co_return 2;
    }
    fmt::print("voucher {}: repaired\n", st.voucher_id);
  }
  fmt::print(
      "reconcile: {} vouchers, {} persisted orders, {} queued, {} dead-lettered, {} with "
      "differences{}\n",
      states->size(), orders, queued_total, dead_total, differing,
      differing && repair ? " (repaired)" : "");
  if (refused) {
    fmt::print("reconcile: {} vouchers not repaired while their sale is live\n", refused);
  }
  co_return differing == 0 || (repair && refused == 0) ? 0 : 1;
}

}  // namespace

int run_reconcile(const Config& config, bool repair, std::vector<int64_t> only) {
  sale::FlashSale sale(config.order_shards);
  return run_command(config, "reconcile", true, [&](CommandStores& stores) -> asio::awaitable<int> {
    db::VoucherRepository vouchers(*stores.pool);
    co_return co_await reconcile(stores.redis, vouchers, sale, repair, only);
  });
}

}  // namespace surge::app
