// Process wiring and lifecycle: start workers, connect, serve, and on a signal drain in-flight
// requests before closing the stores.
#include "app/service.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "app/json.h"
#include "app/redis_client.h"
#include "app/routes.h"
#include "cache/reentrant_lock.h"
#include "common/awaitable.h"
#include "common/backoff.h"
#include "common/random.h"
#include "core/exposition.h"
#include "core/parse.h"
#include "db/schema.h"
#include "http/server.h"
#include "redis/commands.h"
#include "redis/pipeline.h"
#include "sale/priming.h"

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

asio::awaitable<Result<cache::Loaded>> load_shop_types(db::ShopRepository& shops) {
  auto types = co_await shops.types();
  if (!types) co_return types.error();
  co_return cache::Loaded(to_json(*types));
}

// Loads every shop's location into {shop:geo}:<typeId>.
asio::awaitable<void> build_geo_index(Services& s) {
  auto started = std::chrono::steady_clock::now();
  auto n = co_await s.catalog->build_geo_index(*s.redis.at(0));
  if (!n) {
    spdlog::warn("geo: loading the index failed ({}); nearby search may be incomplete",
                 n.error().message());
    co_return;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("geo: {} shops indexed, {:.0f} ms", *n, ms);
}

// Reads the shop filter's bitmap into this instance's copy after the feed (re)connects. The feed
// may be up before worker 0's command connection (both start together): wait for it, and retry.
asio::awaitable<void> sync_shop_bloom(Services& s) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(2000));
  error_code last;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (attempt > 0) {
      pause.expires_after(backoff.next());
      co_await pause.async_wait(kTuple);
    }
    auto ready = co_await s.redis.at(0)->wait_ready(std::chrono::seconds(3));
    auto synced = ready ? co_await s.shop_bloom->sync(*s.redis.at(0)) : ready;
    if (synced) co_return;
    last = synced.error();
    if (last == Errc::kShuttingDown) co_return;
  }
  spdlog::warn("bloom: reading the filter failed ({}); absent ids are checked in Redis",
               last ? last.message() : "redis not ready");
}

// Fills the Redis follows:{id} sets from tb_follow, so common-follow lookups agree with the
// database after Redis lost its data.
// Visitor logs under the names of a version before the {uv} hash tag join today's names.
asio::awaitable<void> adopt_visitor_logs(Services& s) {
  auto n = co_await social::adopt_untagged_visitor_logs(*s.redis.at(0));
  if (!n) {
    spdlog::warn("visitors: adopting logs under the old uv: names failed ({})",
                 n.error().message());
  } else if (*n > 0) {
    spdlog::info("visitors: {} daily logs renamed from uv:yyyyMMdd to {{uv}}:yyyyMMdd", *n);
  }
}

asio::awaitable<void> rebuild_follow_mirror(Services& s) {
  auto st = co_await s.follow_graph->rebuild_mirror(*s.redis.at(0));
  if (!st) {
    spdlog::warn(
        "follows: rebuilding the Redis sets failed ({}); common follows may be "
        "incomplete",
        st.error().message());
    co_return;
  }
  spdlog::info("follows: {} pairs of {} users in Redis", st->pairs, st->users);
}

// The engines behind the handlers; the stores and caches they borrow are already built.
void build_engines(Services& s) {
  const Config& config = s.config;
  const Clock& clock = *s.clock;
  s.catalog = std::make_unique<shop::Catalog>(s.shops, *s.shop_cache, *s.shop_bloom);
  social::CodeLimits limits;
  limits.per_ip_hour = config.social.code_per_ip_hour;
  limits.per_phone_hour = config.social.code_per_phone_hour;
  limits.per_phone_minute = config.social.code_per_phone_minute;
  limits.code_ttl_ms = int64_t{config.social.code_ttl_seconds} * 1000;
  limits.max_attempts = config.social.code_max_attempts;
  s.login_codes = std::make_unique<social::LoginCodes>(limits, clock);
  s.login = std::make_unique<social::Login>(*s.login_codes, *s.sessions, s.users);
  s.check_ins = std::make_unique<social::CheckIns>(clock);
  s.likes = std::make_unique<social::Likes>(s.blogs, s.users, clock);
  social::FeedOptions feed;
  feed.keep = config.social.feed_keep;
  feed.page_size = config.social.feed_page_size;
  s.feed = std::make_unique<social::Feed>(feed, s.follows, clock);
  s.blog_pages = std::make_unique<social::Blogs>(s.blogs, s.users, *s.likes, *s.feed);
  s.follow_graph = std::make_unique<social::Follows>(s.follows, s.users);
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
  auto built = co_await s.shop_bloom->build(*s.redis.at(0), std::move(*ids));
  if (!built) {
    spdlog::warn("bloom: build failed ({})", built.error().message());
    co_return;
  }
  auto st = co_await s.shop_bloom->stats(*s.redis.at(0));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "bloom: {} shop ids in {} ({} bits, {} hashes), fill {:.3f}, est. false positives {:.4f}, "
      "{:.0f} ms",
      n, s.shop_bloom->key(), s.shop_bloom->shape().bits, s.shop_bloom->shape().hashes,
      st ? st->fill_ratio : 0.0, st ? st->estimated_fpr : 0.0, ms);
}

// Primes the sale while holding lock:{sale:prime}, so two instances that start together take
// turns (the second finds the vouchers known and only rewrites their windows).
asio::awaitable<Result<size_t>> prime_under_lock(Services& s) {
  std::string owner = random_token();
  auto token = co_await s.locks->acquire("sale:prime", owner, std::chrono::seconds(60));
  if (!token) co_return token.error();
  if (!*token) co_return make_error_code(Errc::kTimeout);
  auto n = co_await sale::prime_all(*s.vouchers, *s.sale, *s.redis.at(0));
  auto released = co_await s.locks->release("sale:prime", owner);
  if (!released) spdlog::warn("flash sale: releasing the priming lock failed; its lease ends it");
  co_return n;
}

// Logs the outcome of priming the sale; runs once at start.
asio::awaitable<void> prime_at_start(Services& s) {
  auto started = std::chrono::steady_clock::now();
  auto n = co_await prime_under_lock(s);
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

// Every component's metrics, rendered by one collector in a fixed order.
void add_metrics(http::Metrics& metrics, Services& s) {
  metrics.add_collector([&s](std::string& out) {
    redis::Stats total;
    for (auto& c : s.redis) {
      auto st = c->stats();
      total.requests += st.requests;
      total.writes += st.writes;
      total.reconnects += st.reconnects;
      total.timeouts += st.timeouts;
    }
    core::Exposition e(out);
    e.single("surge_redis_requests_total", "counter", "Commands sent to Redis.", total.requests)
        .single("surge_redis_writes_total", "counter",
                "Socket writes to Redis (requests / writes is the pipelining factor).",
                total.writes)
        .single("surge_redis_reconnects_total", "counter", "Redis connections re-established.",
                total.reconnects)
        .single("surge_redis_timeouts_total", "counter", "Redis requests that timed out.",
                total.timeouts)
        .single("surge_db_queue", "gauge", "Database jobs waiting for a connection.", s.db.queued())
        .single("surge_db_expired_total", "counter",
                "Database jobs dropped unrun after waiting past their deadline.", s.db.expired())
        .single("surge_db_cancelled_total", "counter",
                "Database jobs dropped unrun because their client had gone.", s.db.cancelled());
    cache::ReadThrough::render_metrics(out, {s.shop_cache.get(), s.type_cache.get()});
    s.sale->render_metrics(out);
    if (s.order_writer) s.order_writer->render_metrics(out);
    s.sessions->render_metrics(out);
  });
}

// The worker io_contexts, one thread each. Worker i's thread marks itself as worker i, so
// PerWorker<T>::local() finds its own element there.
class Workers {
 public:
  explicit Workers(size_t n) {
    for (size_t i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
  }
  size_t size() const { return contexts_.size(); }
  asio::io_context& at(size_t i) { return *contexts_[i]; }
  std::vector<asio::io_context*> all() {
    std::vector<asio::io_context*> out;
    for (auto& c : contexts_) out.push_back(c.get());
    return out;
  }
  void start() {
    for (size_t i = 0; i < contexts_.size(); ++i) {
      guards_.push_back(asio::make_work_guard(*contexts_[i]));
      threads_.emplace_back([ctx = contexts_[i].get(), i] {
        this_worker::enter(i);
        pthread_setname_np(pthread_self(), fmt::format("worker-{}", i).c_str());
        ctx->run();
      });
    }
  }
  // Lets the contexts run out of work (the stops posted by the drain, loops ending, their
  // frames freed), and only past `grace` stops them where they are. A frame destroyed unrun is
  // fine; one left suspended inside an object it keeps alive is never freed.
  void stop(std::chrono::milliseconds grace) {
    guards_.clear();
    auto until = std::chrono::steady_clock::now() + grace;
    auto idle = [&] {
      return std::all_of(contexts_.begin(), contexts_.end(), [](auto& c) { return c->stopped(); });
    };
    while (!idle() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!idle()) {
      spdlog::warn("surge: background work still running after {} ms; stopping it", grace.count());
    }
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

// The stores: each worker's Redis client (MariaDB's pool is built by the caller).
void build_stores(Services& s, Workers& workers) {
  for (size_t i = 0; i < workers.size(); ++i) {
    auto opts = s.config.redis;
    opts.client_name = fmt::format("surge-w{}", i);
    s.redis.add(redis_client(workers.at(i).get_executor(), s.config, opts));
  }
}

// Where Redis is, said once.
std::string redis_place(const Config& c) {
  return c.redis_cluster.empty() ? fmt::format("{}:{}", c.redis.host, c.redis.port)
                                 : fmt::format("cluster {}", c.redis_cluster);
}

void report_placement(const Config& c) {
  spdlog::info("redis: every feature on {}; purchases answer {}", redis_place(c),
               c.sale_replicas() ? "after a replica has them" : "when the master has them");
}

// The caches and their invalidation feed: one subscriber connection per process, on worker 0.
std::shared_ptr<redis::Connection> build_caches(Services& s, Workers& workers) {
  std::vector<cache::ReadThrough::Worker> cache_workers;
  for (size_t i = 0; i < workers.size(); ++i) {
    cache_workers.push_back({workers.at(i).get_executor(), s.redis.at(i).get()});
  }
  cache::ClassOptions shop_options;
  shop_options.strategy = s.config.shop_cache == "mutex"     ? cache::Strategy::kMutex
                          : s.config.shop_cache == "logical" ? cache::Strategy::kLogicalExpiry
                                                             : cache::Strategy::kEarlyRefresh;
  s.shop_cache = std::make_unique<cache::ReadThrough>(
      shop_options, [&shops = s.shops](std::string id) { return load_shop(shops, std::move(id)); },
      cache_workers, *s.clock);
  cache::ClassOptions type_options;
  type_options.name = "shopType";
  s.type_cache = std::make_unique<cache::ReadThrough>(
      type_options, [&shops = s.shops](std::string) { return load_shop_types(shops); },
      cache_workers, *s.clock);
  // Room for four times the seed-scale 50,114 shops at 0.1% false positives (2.9 Mbit, 360 KB);
  // at seed scale the real rate is about one in a million.
  s.shop_bloom = std::make_unique<cache::BloomFilter>("shop", 200000, 0.001);
  s.shop_cache->set_bloom(s.shop_bloom.get());
  social::SessionOptions sessions;
  sessions.ttl = s.config.login_ttl();
  sessions.max_age = std::chrono::minutes(s.config.login_max_age_minutes);
  sessions.near_ttl = std::chrono::milliseconds(s.config.session_cache_ms);
  sessions.near_capacity = s.config.session_cache_size;
  std::vector<asio::any_io_executor> executors;
  for (size_t i = 0; i < workers.size(); ++i) executors.push_back(workers.at(i).get_executor());
  s.sessions = std::make_unique<social::Sessions>(sessions, *s.clock, std::move(executors));
  auto feed_options = s.config.redis;
  feed_options.client_name = "surge-feed";
  auto feed = subscriber(workers.at(0).get_executor(), s.config, feed_options);
  for (auto* c : {s.shop_cache.get(), s.type_cache.get()}) {
    feed->add_subscription(c->filled_channel());
    feed->add_subscription(c->invalidate_channel());
  }
  // Worker 0's lock service (start-up priming) hears releases on the same feed. A short lease
  // (renewed every second while held): an instance killed while priming holds back the others'
  // priming, and so their readiness, for at most 3 s.
  s.locks = std::make_unique<cache::LockService>(
      *s.redis.at(0), cache::LockOptions{.lease = std::chrono::seconds(3)});
  feed->add_subscription(cache::LockService::kReleasedChannel);
  feed->add_subscription(std::string(social::Sessions::kChannel));
  feed->add_subscription(s.shop_bloom->channel());
  feed->set_push_handler([&s](redis::Reply m) {
    // ["message", channel, payload]; each listener ignores channels that are not its own.
    s.shop_cache->on_message(m.elements[1].str, m.elements[2].str);
    s.type_cache->on_message(m.elements[1].str, m.elements[2].str);
    s.locks->on_message(m.elements[1].str, m.elements[2].str);
    s.sessions->on_message(m.elements[1].str, m.elements[2].str);
    s.shop_bloom->on_message(m.elements[1].str, m.elements[2].str);
  });
  feed->set_state_handler([&s, &workers](bool up) {
    s.shop_cache->on_feed_state(up);
    s.type_cache->on_feed_state(up);
    s.sessions->on_feed_state(up);
    s.shop_bloom->on_feed_state(up);
    if (up) asio::co_spawn(workers.at(0), sync_shop_bloom(s), asio::detached);
  });
  return feed;
}

// The flash sale and the visitor recorder (per-worker parts).
void build_sale_and_visitors(Services& s, Workers& workers) {
  s.vouchers = std::make_unique<db::VoucherRepository>(s.db);
  sale::Durability durability{s.config.sale_replicas(),
                              std::chrono::milliseconds(s.config.sale_durability_timeout_ms)};
  s.sale = std::make_unique<sale::FlashSale>(s.config.order_shards, "seckill", durability);
  std::vector<social::UvRecorder::WorkerClient> uv_clients;
  for (size_t i = 0; i < s.redis.size(); ++i) {
    sale::IdOptions ids;
    ids.block = 100;  // one INCRBY per hundred orders
    ids.replicas = durability.replicas;
    ids.replica_timeout = durability.timeout;
    s.order_ids.add(std::make_unique<sale::IdGenerator>(*s.redis.at(i), ids));
    uv_clients.push_back({workers.at(i).get_executor(), s.redis.at(i).get()});
    // Buckets for 100k keys per worker: a forgotten key only starts again with a full bucket.
    double rate = s.config.sale_rate;
    s.sale_limits.add(rate > 0 ? std::make_unique<core::TokenBuckets>(rate, rate, 100'000)
                               : nullptr);
    int uploads = s.config.social.upload_per_minute;
    s.upload_limits.add(uploads > 0
                            ? std::make_unique<core::TokenBuckets>(uploads / 60.0, uploads, 100'000)
                            : nullptr);
  }
  s.uv = std::make_unique<social::UvRecorder>(std::move(uv_clients));
}

// Start-up state, all on worker 0 (its extra duty), in the background: serving begins at once
// and each loader is safe to be late (see each one).
void load_startup_state(Services& s, Workers& workers) {
  asio::io_context& w0 = workers.at(0);
  auto loaders = {build_shop_bloom, build_geo_index, prime_at_start, rebuild_follow_mirror};
  s.starting = static_cast<int>(loaders.size());
  for (auto* load : loaders) {
    // Counted down however the loader ends (an exception included), so health cannot stay
    // "starting" forever.
    asio::co_spawn(w0, load(s), [&s](std::exception_ptr) { --s.starting; });
  }
  // Readiness does not wait for it: only past days' visitor counts depend on it, and its SCAN
  // grows with the keyspace.
  asio::co_spawn(w0, adopt_visitor_logs(s), asio::detached);
}

// This process's name among the instances: --instance, else host-port (the public port).
std::string instance_name(const Config& config, uint16_t port) {
  if (!config.instance.empty()) return config.instance;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}-{}", host, port);
}

// The order writer (worker 0's duty): its shard loops run there, each with its own Redis
// connection, and its MariaDB work goes through `writer_db`, a pool of its own (the bulkhead:
// public requests, however many or slow, cannot take those connections).
void build_order_writer(Services& s, Workers& workers, const std::string& instance,
                        db::Pool& writer_db) {
  if (!s.config.order_writer) return;
  sale::WriterOptions w;
  w.consumer = instance;
  w.claim_idle = std::chrono::milliseconds(s.config.order_claim_idle_ms);
  w.retention = std::chrono::seconds(s.config.order_retention_s);
  w.replicas = s.sale->durability().replicas;
  w.replica_timeout = s.sale->durability().timeout;
  s.writer_vouchers = std::make_unique<db::VoucherRepository>(writer_db);
  s.order_writer = sale::OrderWriter::create(
      workers.at(0).get_executor(), order_writer_clients(workers.at(0).get_executor(), s.config),
      *s.writer_vouchers, *s.sale, w);
  spdlog::info("orders: writer '{}' in group '{}'", w.consumer, w.group);
}

// Reports the stores' state once at start; serving begins either way (health says 503).
void report_stores(Services& s, Workers& workers) {
  auto wait = std::chrono::seconds(s.redis.at(0)->is_cluster() ? 5 : 3);
  auto ready = asio::co_spawn(workers.at(0), s.redis.at(0)->wait_ready(wait), asio::use_future);
  if (!ready.get()) {
    spdlog::warn("redis {} not reachable yet; retrying in the background", redis_place(s.config));
  }
  auto pong = asio::co_spawn(workers.at(0), s.db.ping(), asio::use_future);
  if (!pong.get()) spdlog::warn("mariadb not reachable yet; requests will get 503 until it is");
}

// Drain: no new connections, busy ones finish (10 s at most), then the background work and
// the stores stop.
void drain(Services& s, Workers& workers, http::Server& server, http::Server& admin,
           const std::shared_ptr<redis::Connection>& feed) {
  server.drain();
  admin.drain();
  auto open = [&] { return server.open_connections() + admin.open_connections(); };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (open() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (open() > 0) {
    spdlog::warn("surge: {} connections still open after 10 s; closing anyway", open());
  }
  // Orders read but not yet committed stay pending under this instance's consumer name; the
  // next start (or another instance's claim) finishes them.
  if (s.order_writer) s.order_writer->stop();
  s.dashboard->stop();
  asio::post(workers.at(0), [&s, feed] {
    s.locks->stop();
    feed->stop();
  });
  for (size_t i = 0; i < workers.size(); ++i) {
    asio::post(workers.at(i), [c = s.redis.at(i)] { c->stop(); });
  }
  workers.stop(std::chrono::seconds(5));
  s.db.stop();
}

}  // namespace

int serve(Config config) {
  if (!db::verify_schema_at_start(config.db, config.allow_degraded_schema)) return 1;
  // Installed first: a signal that arrives while starting up is then queued for the drain below
  // instead of killing the process with the default action.
  asio::io_context main_ctx;
  asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
  Workers workers(config.workers ? config.workers
                                 : std::max(1u, std::thread::hardware_concurrency()));

  // 1. Stores.
  db::Pool pool(config.db);
  db::Options writer_options = config.db;
  writer_options.pool_size = config.order_writer_pool;
  db::Pool writer_pool(writer_options);
  Services services{config, pool, db::ShopRepository(pool)};
  for (const auto& range : config.trusted_proxies) {
    services.trusted_proxies.push_back(*core::Cidr::parse(range));  // checked by the flag
  }
  if (config.admin_token.empty()) {
    spdlog::warn(
        "surge: no --admin-token (SURGE_ADMIN_TOKEN) configured; shop and voucher "
        "writes refuse every request");
  }
  build_stores(services, workers);
  report_placement(config);
  // 2. Engines.
  auto feed = build_caches(services, workers);
  build_sale_and_visitors(services, workers);
  build_engines(services);

  // 3. The servers (public and admin, on the same workers) and their shared metrics: the admin
  // router's ids follow the public ones.
  http::Router router;
  auto names = register_routes(router, services);
  http::Router admin_router(names.size());
  auto admin_names = register_admin_routes(admin_router, services);
  names.insert(names.end(), admin_names.begin(), admin_names.end());
  http::Metrics metrics(workers.size(), names);
  services.metrics = &metrics;
  add_metrics(metrics, services);
  http::Server server(workers.all(), router, metrics, config.http);
  if (!server.listen()) return 1;
  http::ServerOptions admin_options = config.http;
  admin_options.address = config.admin_address;
  admin_options.port = config.admin_port;
  admin_options.max_connections = 64;  // operators and scrapers, not the public
  http::Server admin(workers.all(), admin_router, metrics, admin_options);
  if (!admin.listen()) return 1;
  metrics.add_collector([&server](std::string& out) {
    core::Exposition(out)
        .single("surge_http_refused_connections_total", "counter",
                "Connections answered 503 because --max-connections were open.",
                server.refused_connections())
        .single("surge_http_abandoned_requests_total", "counter",
                "Requests whose client closed the connection before the answer (cancelled).",
                server.abandoned_requests());
  });
  std::string instance = instance_name(config, server.port());
  build_order_writer(services, workers, instance, writer_pool);
  services.dashboard = std::make_unique<DashboardFeed>(services, instance);

  // 4. Connections start on their own workers, then the workers run.
  asio::post(workers.at(0), [feed] { feed->start(); });
  for (size_t i = 0; i < workers.size(); ++i) {
    asio::post(workers.at(i), [c = services.redis.at(i)] { c->start(); });
  }
  workers.start();
  report_stores(services, workers);
  // 5. Start-up state and background work.
  load_startup_state(services, workers);
  if (services.order_writer) services.order_writer->start();
  services.dashboard->start(workers.at(0));
  spdlog::info("surge: serving on http://{}:{} with {} workers (redis {}, mariadb {}, pool {})",
               config.http.address, server.port(), workers.size(), redis_place(config),
               config.db.socket.empty() ? fmt::format("{}:{}", config.db.host, config.db.port)
                                        : config.db.socket,
               config.db.pool_size);
  spdlog::info("surge: admin listener on http://{}:{} (/metrics, /health, /dashboard)",
               config.admin_address, admin.port());

  // The drain starts by failing the health check; with --drain-delay the listener stays open that
  // long (or until a second signal), so a balancer that polls /health moves traffic first.
  asio::steady_timer grace(main_ctx);
  signals.async_wait([&](error_code ec, int sig) {
    if (ec) return;
    services.draining = true;
    spdlog::info("surge: signal {} received; /health answers 503, draining {} connections{}", sig,
                 server.open_connections(),
                 config.drain_delay_ms > 0
                     ? fmt::format(" in {} ms (a second signal drains now)", config.drain_delay_ms)
                     : std::string());
    if (config.drain_delay_ms <= 0) return;
    grace.expires_after(std::chrono::milliseconds(config.drain_delay_ms));
    grace.async_wait([&](error_code) { signals.cancel(); });
    signals.async_wait([&](error_code again, int) {
      if (!again) grace.cancel();
    });
  });
  main_ctx.run();
  // 6. Drain.
  drain(services, workers, server, admin, feed);
  writer_pool.stop();
  spdlog::info("surge: stopped cleanly");
  return 0;
}

}  // namespace surge::app
