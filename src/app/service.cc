// Process wiring and lifecycle: start workers, connect, serve, and on a signal drain in-flight
// requests before closing the stores.
#include "app/service.h"

#include <chrono>
#include <map>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include "app/json.h"
#include "app/routes.h"
#include "cache/shop_places.h"
#include "core/parse.h"
#include "http/server.h"
#include "redis/commands.h"

namespace surge::app {

namespace asio = boost::asio;

namespace {

// The shop loader behind the cache: the row rendered as the API's JSON, or nullopt if absent.
asio::awaitable<Result<cache::Loaded>> load_shop(db::ShopRepository& shops, std::string id) {
  auto n = core::parse_id(id);
  if (!n) co_return cache::Loaded();
  auto shop = co_await shops.find(*n);
  if (!shop) co_return shop.error();
  if (!*shop) co_return cache::Loaded();
  co_return cache::Loaded(to_json(**shop));
}

// Loads every shop's location into shop:geo:{typeId} with bounded pipelines.
asio::awaitable<void> build_geo_index(Services& s) {
  auto started = std::chrono::steady_clock::now();
  auto places = co_await s.shops.all_locations();
  if (!places) {
    spdlog::warn("geo: cannot read shop locations ({}); nearby search will be empty",
                 places.error().message());
    co_return;
  }
  std::map<int64_t, std::vector<const db::ShopRepository::Location*>> by_type;
  for (const auto& p : *places) by_type[p.type_id].push_back(&p);
  std::vector<redis::Command> commands;
  constexpr size_t kPerCommand = 500;
  for (const auto& [type, list] : by_type) {
    for (size_t i = 0; i < list.size(); i += kPerCommand) {
      size_t n = std::min(kPerCommand, list.size() - i);
      redis::Command c;
      c.begin(2 + 3 * n).arg("GEOADD").arg(geo_key(type));
      for (size_t j = i; j < i + n; ++j) c.arg(list[j]->x).arg(list[j]->y).arg(list[j]->id);
      commands.push_back(std::move(c));
    }
  }
  auto done = co_await redis::bulk(s.redis_for(0), std::move(commands));
  if (!done || done->error_replies > 0) {
    std::string why = "error replies";
    if (!done) why = done.error().message();
    spdlog::warn("geo: loading the index failed ({})", why);
    co_return;
  }
  // The load only adds: members left from before (moved to another type, deleted) go now.
  std::vector<int64_t> types;
  if (auto known = co_await s.shops.types()) {
    for (const auto& t : *known) types.push_back(t.id);
  }
  auto stale = co_await cache::remove_stale_places(s.redis_for(0), *places, std::move(types));
  if (!stale) spdlog::warn("geo: removing stale members failed ({})", stale.error().message());
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("geo: {} shops in {} type indexes ({} stale members removed), {:.0f} ms",
               places->size(), by_type.size(), stale ? *stale : 0, ms);
}

// Fills the shop Bloom filter from MariaDB. Until it finishes, the cache simply does not consult
// it, so a slow or failed build costs DB loads for absent ids, never wrong answers.
asio::awaitable<void> build_shop_bloom(Services& s) {
  auto started = std::chrono::steady_clock::now();
  auto ids = co_await s.shops.all_ids();
  if (!ids) {
    spdlog::warn("bloom: cannot read shop ids ({}); absent ids will reach the database",
                 ids.error().message());
    co_return;
  }
  size_t n = ids->size();
  auto built = co_await s.shop_bloom->build(s.redis_for(0), std::move(*ids));
  if (!built) {
    spdlog::warn("bloom: build failed ({})", built.error().message());
    co_return;
  }
  auto st = co_await s.shop_bloom->stats(s.redis_for(0));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "bloom: {} shop ids in {} ({} bits, {} hashes), fill {:.3f}, est. false positives {:.4f}, "
      "{:.0f} ms",
      n, s.shop_bloom->key(), s.shop_bloom->shape().bits, s.shop_bloom->shape().hashes,
      st ? st->fill_ratio : 0.0, st ? st->estimated_fpr : 0.0, ms);
}

// Logs the outcome of priming the sale; runs once at start.
asio::awaitable<void> prime_at_start(Services& s) {
  auto started = std::chrono::steady_clock::now();
  auto n = co_await prime_flash_sale(*s.vouchers, *s.sale, s.redis_for(0));
  if (!n) {
    spdlog::warn(
        "flash sale: cannot load vouchers ({}); POST /voucher/seckill or a restart "
        "will make them known",
        n.error().message());
    co_return;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("flash sale: {} vouchers ready in Redis over {} order shards, {:.0f} ms", *n,
               s.sale->shards(), ms);
}

void add_store_metrics(http::Metrics& metrics, Services& s) {
  metrics.add_collector([&s](std::string& out) {
    redis::Stats total;
    for (auto& c : s.redis) {
      auto st = c->stats();
      total.requests += st.requests;
      total.writes += st.writes;
      total.reconnects += st.reconnects;
      total.timeouts += st.timeouts;
    }
    auto it = std::back_inserter(out);
    fmt::format_to(it, "# TYPE surge_redis_requests_total counter\nsurge_redis_requests_total {}\n",
                   total.requests);
    fmt::format_to(it, "# TYPE surge_redis_writes_total counter\nsurge_redis_writes_total {}\n",
                   total.writes);
    fmt::format_to(it,
                   "# TYPE surge_redis_reconnects_total counter\nsurge_redis_reconnects_total {}\n",
                   total.reconnects);
    fmt::format_to(it, "# TYPE surge_db_queue gauge\nsurge_db_queue {}\n", s.db.queued());
  });
}

}  // namespace

asio::awaitable<Result<size_t>> prime_flash_sale(db::VoucherRepository& vouchers,
                                                 sale::FlashSale& sale, redis::Connection& redis) {
  auto states = co_await vouchers.sale_states();
  if (!states) co_return states.error();
  if (states->empty()) co_return size_t{0};
  // Which vouchers Redis already knows, in one round trip: only the others need their buyers
  // read from MariaDB.
  redis::Command exists;
  for (const auto& st : *states) exists.add("EXISTS", sale.voucher_key(st.voucher_id));
  auto known = co_await redis.exec_all(std::move(exists));
  if (!known) co_return known.error();
  for (size_t i = 0; i < states->size(); ++i) {
    const auto& st = (*states)[i];
    std::vector<int64_t> buyers;
    if ((*known)[i].as_integer().value_or(0) == 0) {
      auto b = co_await vouchers.buyers(st.voucher_id);
      if (!b) co_return b.error();
      buyers = std::move(*b);
    }
    auto primed = co_await sale.prime(redis, st, std::move(buyers));
    if (!primed) co_return primed.error();
  }
  co_return states->size();
}

std::string geo_key(int64_t type_id) { return cache::shop_geo_key(type_id); }

asio::awaitable<Result<cache::Loaded>> load_shop_types(db::ShopRepository& shops) {
  auto types = co_await shops.types();
  if (!types) co_return types.error();
  co_return cache::Loaded(to_json(*types));
}

int serve(Config config) {
  // Installed first: a signal that arrives while starting up is then queued for the drain below
  // instead of killing the process with the default action.
  asio::io_context main_ctx;
  asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
  size_t nworkers =
      config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> raw;
  for (size_t i = 0; i < nworkers; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(contexts.back().get());
  }

  db::Pool pool(config.db);
  Services services{config, pool, db::ShopRepository(pool), {}, nullptr};
  for (size_t i = 0; i < nworkers; ++i) {
    auto opts = config.redis;
    opts.client_name = fmt::format("surge-w{}", i);
    services.redis.push_back(redis::Connection::create(contexts[i]->get_executor(), opts));
  }

  std::vector<cache::ReadThrough::Worker> cache_workers;
  for (size_t i = 0; i < nworkers; ++i) {
    cache_workers.push_back({contexts[i]->get_executor(), services.redis[i].get()});
  }
  cache::ClassOptions shop_options;
  shop_options.strategy = config.shop_cache == "mutex"     ? cache::Strategy::kMutex
                          : config.shop_cache == "logical" ? cache::Strategy::kLogicalExpiry
                                                           : cache::Strategy::kEarlyRefresh;
  services.shop_cache = std::make_unique<cache::ReadThrough>(
      shop_options,
      [&shops = services.shops](std::string id) { return load_shop(shops, std::move(id)); },
      cache_workers);
  cache::ClassOptions type_options;
  type_options.name = "shopType";
  services.type_cache = std::make_unique<cache::ReadThrough>(
      type_options, [&shops = services.shops](std::string) { return load_shop_types(shops); },
      cache_workers);
  // Room for four times the seed-scale 50,114 shops at 0.1% false positives (2.9 Mbit, 360 KB);
  // at seed scale the real rate is about one in a million.
  services.shop_bloom = std::make_unique<cache::BloomFilter>("shop", 200000, 0.001);
  services.shop_cache->set_bloom(services.shop_bloom.get());
  // One subscriber per process carries the cache's fill and invalidation messages.
  auto feed_options = config.redis;
  feed_options.client_name = "surge-feed";
  auto feed = redis::Connection::create(contexts[0]->get_executor(), feed_options);
  for (auto* c : {services.shop_cache.get(), services.type_cache.get()}) {
    feed->add_subscription(c->filled_channel());
    feed->add_subscription(c->invalidate_channel());
  }
  feed->set_push_handler([&services](redis::Reply m) {
    // ["message", channel, payload]; each cache ignores channels that are not its own.
    services.shop_cache->on_message(m.elements[1].str, m.elements[2].str);
    services.type_cache->on_message(m.elements[1].str, m.elements[2].str);
  });
  feed->set_state_handler([&services](bool up) {
    services.shop_cache->on_feed_state(up);
    services.type_cache->on_feed_state(up);
  });

  services.vouchers = std::make_unique<db::VoucherRepository>(pool);
  services.sale = std::make_unique<sale::FlashSale>(config.order_shards);
  for (size_t i = 0; i < nworkers; ++i) {
    sale::IdOptions ids;
    ids.block = 100;  // one INCRBY per hundred orders
    services.order_ids.push_back(std::make_unique<sale::IdGenerator>(*services.redis[i], ids));
  }
  {
    std::vector<redis::Connection*> uv_connections;
    for (auto& c : services.redis) uv_connections.push_back(c.get());
    services.uv = std::make_unique<UvRecorder>(std::move(uv_connections));
  }

  http::Router router;
  auto names = register_routes(router, services);
  http::Metrics metrics(nworkers, names);
  services.metrics = &metrics;
  add_store_metrics(metrics, services);
  metrics.add_collector([&services](std::string& out) {
    cache::ReadThrough::render_metrics(out, {services.shop_cache.get(), services.type_cache.get()});
    services.sale->render_metrics(out);
    if (services.order_writer) services.order_writer->render_metrics(out);
  });

  http::Server server(raw, router, metrics, config.http);
  if (!server.listen()) return 1;
  if (config.order_writer) {
    sale::WriterOptions w;
    w.consumer = config.instance;
    if (w.consumer.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      w.consumer = fmt::format("{}-{}", host, server.port());
    }
    w.claim_idle = std::chrono::milliseconds(config.order_claim_idle_ms);
    w.retention = std::chrono::seconds(config.order_retention_s);
    services.order_writer = sale::OrderWriter::create(contexts[0]->get_executor(), config.redis,
                                                      *services.vouchers, *services.sale, w);
    spdlog::info("orders: writer '{}' in group '{}'", w.consumer, w.group);
  }

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  asio::post(*contexts[0], [feed] { feed->start(); });
  for (size_t i = 0; i < nworkers; ++i) {
    guards.push_back(asio::make_work_guard(*contexts[i]));
    asio::post(*contexts[i], [c = services.redis[i]] { c->start(); });
    threads.emplace_back([ctx = contexts[i].get(), i] {
      pthread_setname_np(pthread_self(), fmt::format("worker-{}", i).c_str());
      ctx->run();
    });
  }

  // Report the stores' state once at start; serving begins either way (health says 503).
  {
    auto ready = asio::co_spawn(
        *contexts[0], services.redis[0]->wait_ready(std::chrono::seconds(3)), asio::use_future);
    if (!ready.get()) {
      spdlog::warn("redis {}:{} not reachable yet; retrying in the background", config.redis.host,
                   config.redis.port);
    }
    auto pong = asio::co_spawn(*contexts[0], pool.ping(), asio::use_future);
    if (!pong.get()) spdlog::warn("mariadb not reachable yet; requests will get 503 until it is");
  }
  asio::co_spawn(*contexts[0], build_shop_bloom(services), asio::detached);
  asio::co_spawn(*contexts[0], build_geo_index(services), asio::detached);
  asio::co_spawn(*contexts[0], prime_at_start(services), asio::detached);
  if (services.order_writer) services.order_writer->start();
  asio::co_spawn(*contexts[0], load_follow_sets(services), asio::detached);
  spdlog::info("surge: serving on http://{}:{} with {} workers (redis {}:{}, mariadb {}, pool {})",
               config.http.address, server.port(), nworkers, config.redis.host, config.redis.port,
               config.db.socket.empty() ? fmt::format("{}:{}", config.db.host, config.db.port)
                                        : config.db.socket,
               config.db.pool_size);

  signals.async_wait([&](error_code, int sig) {
    spdlog::info("surge: signal {} received; draining {} connections", sig,
                 server.open_connections());
  });
  main_ctx.run();

  server.drain();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (server.open_connections() > 0) {
    spdlog::warn("surge: {} connections still open after 10 s; closing anyway",
                 server.open_connections());
  }
  // Orders read but not yet committed stay pending under this instance's consumer name; the
  // next start (or another instance's claim) finishes them.
  if (services.order_writer) services.order_writer->stop();
  asio::post(*contexts[0], [feed] { feed->stop(); });
  for (size_t i = 0; i < nworkers; ++i) {
    asio::post(*contexts[i], [c = services.redis[i]] { c->stop(); });
  }
  guards.clear();
  for (auto& c : contexts) c->stop();
  for (auto& t : threads) t.join();
  pool.stop();
  spdlog::info("surge: stopped cleanly");
  return 0;
}

}  // namespace surge::app
