// The MariaDB pool: blocking connections driven by their own threads, offered to coroutines as
// awaitables. Threads == connections, so a job never waits for a connection once it runs; the
// queue in front of the threads is bounded (Options::max_queue).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/error.h"
#include "db/connection.h"

namespace surge::db {

namespace asio = boost::asio;

// Thread-safe. Destroying it waits for running jobs and closes every connection.
class Pool {
 public:
  explicit Pool(Options options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const Options& options() const { return options_; }
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // Jobs dropped unrun because they outwaited Options::queue_timeout.
  uint64_t expired() const { return expired_.load(std::memory_order_relaxed); }
  // Jobs not run because their caller was cancelled first (its client went away).
  uint64_t cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Runs job(Connection&) on a pool thread and resumes the caller on its own executor with the
  // job's result, which must be a Result<...>. Fails without running the job: with kUnavailable
  // when the queue is full, with kTimeout when it waited in the queue beyond
  // Options::queue_timeout, with kShuttingDown after stop(), and with kCancelled when the
  // caller's coroutine was cancelled (terminal; the HTTP server does so when the client goes
  // away) before the job started. A job that has started always finishes.
  template <class F>
  auto run(F job) -> asio::awaitable<std::invoke_result_t<F&, Connection&>> {
    using R = std::invoke_result_t<F&, Connection&>;
    auto state = co_await asio::this_coro::cancellation_state;
    if ((state.cancelled() & asio::cancellation_type::terminal) != asio::cancellation_type::none) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      co_return R(boost::system::in_place_error, make_error_code(Errc::kCancelled));
    }
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
        [this](auto handler, F job) {
          auto work = asio::make_work_guard(asio::get_associated_executor(handler));
          if (!admit()) {
            R refused = make_error_code(stopped_ ? Errc::kShuttingDown : Errc::kUnavailable);
            asio::post(work.get_executor(), [h = std::move(handler), refused]() mutable {
              std::move(h)(std::move(refused));
            });
            return;
          }
          // Set from the caller's thread by a cancellation while the job waits in the queue;
          // read by the pool thread that takes the job.
          auto abandoned = std::make_shared<std::atomic<bool>>(false);
          auto slot = asio::get_associated_cancellation_slot(handler);
          if (slot.is_connected()) {
            slot.assign([abandoned](asio::cancellation_type type) {
              if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none) {
                abandoned->store(true);
              }
            });
          }
          auto deadline = std::chrono::steady_clock::now() + options_.queue_timeout;
          asio::post(threads_, [this, job = std::move(job), h = std::move(handler),
                                work = std::move(work), deadline, abandoned]() mutable {
            R result = abandoned->load() ? skip<R>() : with_connection(job, deadline);
            auto ex = work.get_executor();
            asio::post(ex, [h = std::move(h), r = std::move(result)]() mutable {
              asio::get_associated_cancellation_slot(h).clear();
              std::move(h)(std::move(r));
            });
          });
        },
        asio::use_awaitable, std::move(job));
  }

  // Convenience wrappers for one statement.
  asio::awaitable<Result<Rows>> query(std::string sql, Params params = {});
  asio::awaitable<Result<ExecResult>> execute(std::string sql, Params params = {});
  asio::awaitable<Result<void>> ping();

  // Refuses new jobs; running ones finish.
  void stop() { stopped_ = true; }

 private:
  bool admit();
  std::unique_ptr<Connection> acquire();
  void release(std::unique_ptr<Connection> c);

  template <class R>
  R skip() {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return R(boost::system::in_place_error, make_error_code(Errc::kCancelled));
  }

  template <class F>
  auto with_connection(F& job, std::chrono::steady_clock::time_point deadline)
      -> std::invoke_result_t<F&, Connection&> {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    if (std::chrono::steady_clock::now() > deadline) {
      expired_.fetch_add(1, std::memory_order_relaxed);
      return make_error_code(Errc::kTimeout);
    }
    auto conn = acquire();
    auto result = job(*conn);
    release(std::move(conn));
    return result;
  }

  Options options_;
  asio::thread_pool threads_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::atomic<size_t> queued_{0};
  std::atomic<uint64_t> expired_{0};
  std::atomic<uint64_t> cancelled_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace surge::db
