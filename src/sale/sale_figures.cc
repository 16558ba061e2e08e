// One summary at a time per process, shared by every poller.
#include "sale/sale_figures.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace surge::sale {

SaleFigures::SaleFigures(const OrderQueues& queues, db::VoucherRepository& vouchers,
                         const Clock& clock, Options options)
    : queues_(queues), vouchers_(vouchers), clock_(clock), options_(options) {}

asio::awaitable<Result<std::shared_ptr<const SaleFigures::Figures>>> SaleFigures::current(
    redis::Connection& c) {
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
  if (!latest) co_return co_await refresh(c);
  // Spawned outside the lock: it may start running at once, and it takes the lock at its end.
  if (start) asio::co_spawn(co_await asio::this_coro::executor, refresh(c), asio::detached);
  co_return latest;
}

asio::awaitable<Result<std::shared_ptr<const SaleFigures::Figures>>> SaleFigures::refresh(
    redis::Connection& c) {
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

uint64_t SaleFigures::computed() const {
  std::lock_guard lock(mutex_);
  return computed_;
}

}  // namespace surge::sale
