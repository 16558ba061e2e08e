// The io_context, connection and pool of a one-shot command.
#include "app/command_stores.h"

#include "app/redis_client.h"

#include <chrono>
#include <future>
#include <optional>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace surge::app {

namespace asio = boost::asio;

int run_command(const Config& config, std::string_view name, bool with_db,
                std::function<asio::awaitable<int>(CommandStores&)> body) {
  asio::io_context ctx;
  std::optional<db::Pool> pool;
  if (with_db) {
    db::Options dbo = config.db;
    dbo.pool_size = 2;
    pool.emplace(dbo);
  }
  auto opts = config.redis;
  opts.client_name = fmt::format("surge-{}", name);
  auto r = redis_client(ctx.get_executor(), config, opts);
  r->start();
  CommandStores stores{*r, pool ? &*pool : nullptr};
  auto top = [&]() -> asio::awaitable<int> {
    if (!co_await r->wait_ready(std::chrono::seconds(3))) {
      fmt::print(stderr, "{}: redis not reachable\n", name);
      co_return kExitUsage;
    }
    co_return co_await body(stores);
  };
  auto result = asio::co_spawn(ctx, top(), asio::use_future);
  while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ctx.run_one();
  r->stop();
  ctx.run_for(std::chrono::milliseconds(20));
  if (pool) pool->stop();
  return result.get();
}

}  // namespace surge::app
