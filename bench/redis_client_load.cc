// Load generator for the Redis client: N coroutines on one worker thread share one multiplexed
// connection and issue GET (500-byte value) or a flash-sale-shaped script for a fixed time.
// bench/redis-client runs it next to redis-benchmark with the same number of outstanding
// commands, so the two figures can be compared as a ratio.
#include <atomic>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "redis/connection.h"
#include "redis/script.h"

namespace {

namespace asio = boost::asio;
using namespace surge;
using Clock = std::chrono::steady_clock;

// Same shape as the flash sale: stock check, one-per-user check, decrement, record, enqueue.
// The buyer is a fresh id from a counter, so every call takes the full "order accepted" path
// with identical arguments: redis-benchmark cannot vary arguments of a custom command.
constexpr const char* kSaleScript = R"(
local user = redis.call('INCR', KEYS[4])
local stock = tonumber(redis.call('GET', KEYS[1]))
if stock == nil or stock <= 0 then return 1 end
if redis.call('SISMEMBER', KEYS[2], user) == 1 then return 2 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], user)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'userId', user)
return 0
)";

struct Totals {
  uint64_t ops = 0;
  uint64_t errors = 0;
};

asio::awaitable<void> worker(redis::Connection& conn, const redis::Script* script,
                             Clock::time_point until, Totals& totals) {
  const std::vector<std::string> keys = {"{bench}:stock", "{bench}:buyers", "{bench}:orders",
                                         "{bench}:users"};
  while (Clock::now() < until) {
    Result<redis::Reply> r;
    if (script) {
      r = co_await conn.exec(
          redis::Command::make("EVALSHA", script->sha(), 4, keys[0], keys[1], keys[2], keys[3]));
    } else {
      r = co_await conn.exec(redis::Command::make("GET", "bench:value"));
    }
    if (r && !r->is_error()) {
      ++totals.ops;
    } else {
      ++totals.errors;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Drive the Surge Redis client against a redis-server"};
  uint16_t port = 6379;
  size_t coroutines = 800;
  double seconds = 5;
  std::string mode = "get";
  cli.add_option("--port", port)->capture_default_str();
  cli.add_option("-n,--coroutines", coroutines, "Concurrent requests")->capture_default_str();
  cli.add_option("-s,--seconds", seconds)->capture_default_str();
  cli.add_option("--mode", mode, "get or script")
      ->check(CLI::IsMember({"get", "script"}))
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  asio::io_context ctx(1);
  redis::Options o;
  o.port = port;
  auto conn = redis::Connection::create(ctx.get_executor(), o);
  conn->start();
  auto ready = asio::co_spawn(ctx, conn->wait_ready(std::chrono::seconds(3)), asio::use_future);
  ctx.run_one();
  while (ready.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ctx.run_one();
  if (!ready.get()) {
    fmt::print(stderr, "redis-client-load: cannot connect to 127.0.0.1:{}\n", port);
    return 1;
  }
  redis::Script script(kSaleScript);
  if (mode == "script") {
    // Load it once so every timed call is an EVALSHA hit.
    auto load = asio::co_spawn(
        ctx, conn->exec(redis::Command::make("SCRIPT", "LOAD", script.body())), asio::use_future);
    while (load.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ctx.run_one();
  }
  Totals totals;
  auto started = Clock::now();
  auto until =
      started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  size_t remaining = coroutines;
  Clock::time_point finished;
  redis::Stats st;
  for (size_t i = 0; i < coroutines; ++i) {
    asio::co_spawn(ctx, worker(*conn, mode == "script" ? &script : nullptr, until, totals),
                   [&](std::exception_ptr) {
                     if (--remaining > 0) return;
                     finished = Clock::now();
                     st = conn->stats();
                     conn->stop();  // ends the read loop, so run() returns
                   });
  }
  ctx.restart();
  ctx.run();
  double elapsed = std::chrono::duration<double>(finished - started).count();
  fmt::print(
      "{{\"mode\":\"{}\",\"coroutines\":{},\"ops\":{},\"errors\":{},\"seconds\":{:.3f},"
      "\"ops_per_sec\":{:.0f},\"pipelining\":{:.1f}}}\n",
      mode, coroutines, totals.ops, totals.errors, elapsed, totals.ops / elapsed,
      st.writes ? static_cast<double>(st.requests) / static_cast<double>(st.writes) : 0.0);
  return totals.errors == 0 ? 0 : 1;
}
