// Flash-sale load generator: N distinct buyers through the real purchase script (C outstanding
// on one multiplexed connection, one thread), then the real order writer persisting every
// accepted order into MariaDB. Prints one JSON line: accepted/s and persisted/s, plus the
// script's SHA and keys so bench/flash-sale can run redis-benchmark on the same script.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "app/config.h"
#include "sale/flash_sale.h"
#include "sale/order_writer.h"

namespace {

namespace asio = boost::asio;
using namespace surge;
using Clock = std::chrono::steady_clock;

struct Run {
  sale::FlashSale& sale;
  redis::Client& conn;
  int64_t voucher;
  int64_t next_user = 1;
  int64_t users;
  uint64_t accepted = 0, refused = 0, errors = 0;
  size_t running = 0;
};

asio::awaitable<void> buyer(Run& run) {
  while (run.next_user <= run.users) {
    int64_t user = run.next_user++;
    auto r = co_await run.sale.buy(run.conn, run.voucher, user, run.voucher * 10'000'000 + user);
    if (!r) {
      ++run.errors;
    } else if (*r == sale::SaleOutcome::kAccepted) {
      ++run.accepted;
    } else {
      ++run.refused;
    }
  }
  --run.running;
}

template <class Pred>
void run_until(asio::io_context& ctx, Pred done, std::chrono::seconds limit) {
  auto until = Clock::now() + limit;
  while (!done() && Clock::now() < until) ctx.run_one_for(std::chrono::milliseconds(5));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Flash-sale purchase and order-writer throughput"};
  app::Config config;
  int64_t users = 100'000;
  size_t outstanding = 800;
  app::add_store_flags(cli, config);
  cli.add_option("-n,--users", users, "Distinct buyers (= stock, all accepted)")
      ->capture_default_str();
  cli.add_option("-c,--outstanding", outstanding, "Purchases in flight")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  asio::io_context ctx;
  db::Pool pool(config.db);
  db::VoucherRepository vouchers(pool);
  sale::FlashSale sale(config.order_shards);
  auto conn = redis::Connection::create(ctx.get_executor(), config.redis);
  conn->start();
  redis::NodeClient node(*conn);

  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  db::Voucher v;
  v.shop_id = 1;
  v.title = "bench";
  v.stock = users;
  v.begin_ms = now_ms - 60'000;
  v.end_ms = now_ms + 3'600'000;
  int64_t voucher = 0;
  bool ready = false;
  auto setup = [&]() -> asio::awaitable<void> {
    co_await conn->wait_ready(std::chrono::seconds(3));
    auto id = co_await vouchers.insert(v);
    if (!id) co_return;
    voucher = *id;
    std::vector<int64_t> none;
    auto primed =
        co_await sale.prime(node, db::SaleState{voucher, users, v.begin_ms, v.end_ms}, none);
    ready = static_cast<bool>(primed);
  };
  asio::co_spawn(ctx, setup(), asio::detached);
  run_until(
      ctx, [&] { return ready; }, std::chrono::seconds(10));
  if (!ready) {
    fmt::print(stderr, "order_writer_load: cannot create the voucher\n");
    return 1;
  }

  Run run{sale, node, voucher, 1, users};
  auto started = Clock::now();
  for (size_t i = 0; i < outstanding; ++i, ++run.running) {
    asio::co_spawn(ctx, buyer(run), asio::detached);
  }
  run_until(
      ctx, [&] { return run.running == 0; }, std::chrono::seconds(300));
  double accept_s = std::chrono::duration<double>(Clock::now() - started).count();

  sale::WriterOptions w;
  w.consumer = fmt::format("bench-{}", ::getpid());
  auto writer = sale::OrderWriter::create(
      ctx.get_executor(), sale::node_clients(ctx.get_executor(), config.redis), vouchers, sale, w);
  started = Clock::now();
  writer->start();
  run_until(
      ctx, [&] { return writer->stats().persisted >= run.accepted; }, std::chrono::seconds(300));
  double persist_s = std::chrono::duration<double>(Clock::now() - started).count();
  auto st = writer->stats();
  writer->stop();
  conn->stop();
  ctx.run_for(std::chrono::milliseconds(100));
  pool.stop();

  int shard = sale.shard_of(voucher);
  fmt::print(
      "{{\"voucher\":{},\"accepted\":{},\"refused\":{},\"errors\":{},\"accept_per_sec\":{:.0f},"
      "\"persisted\":{},\"batches\":{},\"persist_per_sec\":{:.0f},\"sha\":\"{}\","
      "\"keys\":[\"{}\",\"{}\",\"{}\",\"{}\"]}}\n",
      voucher, run.accepted, run.refused, run.errors, run.accepted / accept_s, st.persisted,
      st.batches, st.persisted / persist_s, sale::FlashSale::purchase_script().sha(),
      sale.voucher_key(voucher), sale.buyers_key(voucher), sale.stream_key(shard),
      sale.queued_key(shard));
  return run.errors == 0 && st.persisted == run.accepted ? 0 : 1;
}
