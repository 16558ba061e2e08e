// One summary at a time per process, shared by every poller.
#include "sale/sale_figures.h"

namespace surge::sale {

SaleFigures::SaleFigures(const OrderQueues& queues, db::VoucherRepository& vouchers,
                         const Clock& clock, Options options)
    : queues_(queues), vouchers_(vouchers), clock_(clock), options_(options) {}

asio::awaitable<Result<std::shared_ptr<const SaleFigures::Figures>>> SaleFigures::current(
    redis::Connection& c) {
  int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mutex_);
    bool fresh = latest_ && now - latest_->at_ms < options_.max_age.count();
    if (fresh || (computing_ && latest_)) co_return latest_;
    computing_ = true;
  }
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
