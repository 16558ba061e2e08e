// Running an io_context from a test thread until something is done. A Redis connection's read
// loop keeps its io_context busy for ever, so io_context::run() would never return; these helpers
// poll instead, and a stuck test fails with an exception rather than hanging ctest.
#pragma once

#include <chrono>
#include <future>
#include <stdexcept>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace surge::test {

// Runs `ctx` until `done()` holds; throws after `limit`.
template <class Pred>
void drive(boost::asio::io_context& ctx, Pred done,
           std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      throw std::runtime_error("test coroutines did not finish in time");
    }
    if (ctx.stopped()) ctx.restart();
    ctx.run_one_for(std::chrono::milliseconds(5));
  }
}

// Runs `ctx` for `d`, whatever happens.
inline void drive_for(boost::asio::io_context& ctx, std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  drive(
      ctx, [&] { return std::chrono::steady_clock::now() >= until; }, d + std::chrono::seconds(1));
}

// Runs one coroutine to completion on `ctx` and returns its result.
template <class T>
T run_co(boost::asio::io_context& ctx, boost::asio::awaitable<T> aw,
         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto fut = boost::asio::co_spawn(ctx, std::move(aw), boost::asio::use_future);
  drive(
      ctx, [&] { return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
      limit);
  return fut.get();
}

}  // namespace surge::test
