// The flash sale's figures for a page that polls them (the live dashboard): the order queues'
// summary of the active vouchers, computed at most once per `max_age` in a process however many
// callers ask, and shared by all of them (stale while a new one is computed). One summary reads
// MariaDB twice and Redis a few times per shard, which the dashboard's pollers would otherwise
// multiply during a sale.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

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
  // Whether a caller that finds the figures older than max_age waits for new ones.
  enum class Wait {
    kNo,         // a page poll: never waits behind the stores
    kWhenStale,  // a Prometheus scrape: seconds apart, so reused figures would lag a scrape
  };
  // The latest figures. When they are older than max_age and no computation runs, one starts
  // on the caller's io_context with `c` (which must outlive it). With Wait::kNo it runs in the
  // background and the caller still gets the latest ones at once: a poller never waits for the
  // summary's store reads, which take round trips behind a sale's purchases, and sees figures
  // at most about max_age plus one computation old. The first call always computes inline; an
  // error then when the stores could not be read.
  asio::awaitable<Result<std::shared_ptr<const Figures>>> current(redis::Client& c,
                                                                  Wait wait = Wait::kNo);

  // The figures as Prometheus gauges labelled by voucher and by order-stream shard. They come
  // from the stores, so every instance exports the same values (aggregate with max, not sum).
  static void render_metrics(const Figures& f, int64_t now_ms, std::string& out);

  // Summaries computed so far (what the polling cost in store reads).
  uint64_t computed() const;

 private:
  // Computes and stores new figures; the caller has set computing_.
  asio::awaitable<Result<std::shared_ptr<const Figures>>> refresh(redis::Client& c);

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
