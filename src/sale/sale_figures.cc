// One summary at a time per process, shared by every poller.
#include "sale/sale_figures.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/exposition.h"

namespace surge::sale {

namespace {

using Counts = OrderQueues::VoucherCounts;
using Backlog = OrderQueues::ShardBacklog;

template <class Row>
struct Gauge {
  const char* name;
  const char* help;
  int64_t Row::*field;
};

constexpr Gauge<Counts> kVoucherGauges[] = {
    {"surge_sale_voucher_stock", "Stock left in Redis for the voucher.", &Counts::stock},
    {"surge_sale_voucher_accepted", "Purchases of the voucher ever accepted, every instance's.",
     &Counts::accepted},
    {"surge_sale_voucher_queued", "Accepted orders of the voucher waiting for the order writer.",
     &Counts::queued},
    {"surge_sale_voucher_persisted", "Orders of the voucher in MariaDB.", &Counts::persisted},
    {"surge_sale_voucher_dead_letters", "Orders of the voucher in a dead-letter stream.",
     &Counts::dead},
};

constexpr Gauge<Backlog> kShardGauges[] = {
    {"surge_sale_stream_entries", "Entries in the shard's order stream.", &Backlog::length},
    {"surge_sale_stream_unread", "Order stream entries not yet delivered to the writers.",
     &Backlog::unread},
    {"surge_sale_stream_pending", "Order stream entries delivered but not yet acknowledged.",
     &Backlog::pending},
    {"surge_sale_stream_dead_letters", "Entries in the shard's dead-letter stream.",
     &Backlog::dead_letters},
};

// One family per gauge, a sample per row labelled `label`="<row's key>".
template <class Row, size_t N, class Key>
void render_rows(core::Exposition& e, const Gauge<Row> (&gauges)[N], const std::vector<Row>& rows,
                 const char* label, Key key) {
  for (const auto& g : gauges) {
    e.family(g.name, "gauge", g.help);
    for (const auto& row : rows) {
      e.sample(g.name, fmt::format("{}=\"{}\"", label, key(row)),
               static_cast<uint64_t>(std::max<int64_t>(0, row.*g.field)));
    }
  }
}

}  // namespace

SaleFigures::SaleFigures(const OrderQueues& queues, db::VoucherRepository& vouchers,
                         const Clock& clock, Options options)
    : queues_(queues), vouchers_(vouchers), clock_(clock), options_(options) {}

asio::awaitable<Result<std::shared_ptr<const SaleFigures::Figures>>> SaleFigures::current(
    redis::Client& c, Wait wait) {
  std::shared_ptr<const Figures> latest;
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    latest = latest_;
    if (latest) {
      start = !computing_ && clock_.now_ms() - latest->at_ms >= options_.max_age.count();
    }
    // Without figures yet the caller computes them inline (concurrent first callers each do).
    if (start || !latest) computing_ = true;
  }
  if (!latest || (start && wait == Wait::kWhenStale)) co_return co_await refresh(c);
  // Spawned outside the lock: it may start running at once, and it takes the lock at its end.
  if (start) asio::co_spawn(co_await asio::this_coro::executor, refresh(c), asio::detached);
  co_return latest;
}

asio::awaitable<Result<std::shared_ptr<const SaleFigures::Figures>>> SaleFigures::refresh(
    redis::Client& c) {
  int64_t now = clock_.now_ms();
  OrderQueues::Selection selection;
  selection.active_at_ms = now;
  selection.limit = options_.limit;
  auto summary = co_await queues_.summary(c, vouchers_, selection);
  std::lock_guard lock(mutex_);
  computing_ = false;
  ++computed_;
  if (!summary) {
    // The last good figures stay until the stores answer again; the page shows their age.
    if (latest_) co_return latest_;
    co_return summary.error();
  }
  latest_ = std::make_shared<const Figures>(Figures{now, std::move(*summary)});
  co_return latest_;
}

void SaleFigures::render_metrics(const Figures& f, int64_t now_ms, std::string& out) {
  core::Exposition e(out);
  e.family("surge_sale_figures_age_seconds", "gauge",
           "Age of the per-voucher and per-shard figures below (read from the stores at most "
           "once a second).")
      .sample("surge_sale_figures_age_seconds", "",
              static_cast<double>(std::max<int64_t>(0, now_ms - f.at_ms)) / 1000.0);
  render_rows(e, kVoucherGauges, f.summary.vouchers, "voucher",
              [](const Counts& v) { return v.voucher_id; });
  render_rows(e, kShardGauges, f.summary.shards, "shard", [](const Backlog& b) { return b.shard; });
}

uint64_t SaleFigures::computed() const {
  std::lock_guard lock(mutex_);
  return computed_;
}

}  // namespace surge::sale
