// The flash sale's figures for a page that polls them (the live dashboard): the order queues'
// summary of the active vouchers, computed at most once per `max_age` in a process however many
// callers ask, and shared by all of them. One summary reads MariaDB twice and Redis a few times
// per shard, which the dashboard's pollers would otherwise multiply during a sale.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "db/voucher_repository.h"
#include "redis/connection.h"
#include "sale/order_queues.h"

namespace surge::sale {

// Thread-safe: current() may be called from any worker, with that worker's connection; the
// computation runs on the caller's io_context. The queues, repository and clock must outlive it.
class SaleFigures {
 public:
  struct Options {
    std::chrono::milliseconds max_age{1000};
    size_t limit = 20;  // vouchers shown at most (the newest active ones)
  };
  SaleFigures(const OrderQueues& queues, db::VoucherRepository& vouchers, const Clock& clock,
              Options options);

  struct Figures {
    int64_t at_ms = 0;  // when they were computed
    OrderQueues::Summary summary;
  };
  // The latest figures if younger than max_age; otherwise new ones, unless another caller is
  // computing them already, in which case the latest ones (however old) rather than a second
  // computation. An error when the stores could not be read and nothing was computed before.
  asio::awaitable<Result<std::shared_ptr<const Figures>>> current(redis::Connection& c);

  // Summaries computed so far (what the polling cost in store reads).
  uint64_t computed() const;

 private:
  const OrderQueues& queues_;
  db::VoucherRepository& vouchers_;
  const Clock& clock_;
  Options options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Figures> latest_;  // guarded by mutex_
  bool computing_ = false;                 // guarded by mutex_
  uint64_t computed_ = 0;                  // guarded by mutex_
};

}  // namespace surge::sale
