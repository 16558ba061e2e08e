// The running process: worker io_contexts, per-worker Redis connections, the MariaDB pool, and
// the HTTP server wired to the API.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "app/config.h"
#include "app/dashboard_feed.h"
#include "cache/read_through.h"
#include "cache/reentrant_lock.h"
#include "common/clock.h"
#include "common/per_worker.h"
#include "core/net.h"
#include "core/token_bucket.h"
#include "db/blog_repository.h"
#include "db/follow_repository.h"
#include "db/pool.h"
#include "db/shop_repository.h"
#include "db/upload_repository.h"
#include "db/user_repository.h"
#include "db/voucher_repository.h"
#include "http/metrics.h"
#include "redis/connection.h"
#include "sale/flash_sale.h"
#include "sale/id_generator.h"
#include "sale/order_writer.h"
#include "shop/catalog.h"
#include "social/blogs.h"
#include "social/check_ins.h"
#include "social/follows.h"
#include "social/login.h"
#include "social/visitors.h"

namespace surge::app {

// Shared by every handler. Per-worker members (PerWorker<T>) are touched only through local() on
// their own worker's thread; everything else is shared and safe to use from any worker.
struct Services {
  const Config& config;
  db::Pool& db;
  db::ShopRepository shops;
  // Each worker's Redis client, for every feature: one connection to the node, or with
  // --redis-cluster a cluster client (one connection per node).
  PerWorker<std::shared_ptr<redis::Client>> redis{};
  http::Metrics* metrics = nullptr;
  // Set by SIGTERM: /health answers 503 so balancers stop sending before the drain.
  std::atomic<bool> draining{false};
  // Start-up loaders still running (Bloom filter, geo index, voucher priming, follow sets):
  // /health answers 503 "starting" until each has finished (or given up and said so), so a
  // balancer or a script that waits for health never meets a half-loaded index. 1 from the
  // start, since the listener answers before the loaders are counted.
  std::atomic<int> starting{1};
  std::unique_ptr<cache::ReadThrough> shop_cache{};
  std::unique_ptr<cache::BloomFilter> shop_bloom{};
  std::unique_ptr<cache::ReadThrough> type_cache{};
  std::unique_ptr<cache::LockService> locks{};  // worker 0's; guards start-up priming
  // Vouchers and the flash sale.
  std::unique_ptr<db::VoucherRepository> vouchers{};
  std::unique_ptr<db::VoucherRepository> writer_vouchers{};  // on the order writer's own pool
  std::unique_ptr<sale::FlashSale> sale{};
  PerWorker<std::unique_ptr<sale::IdGenerator>> order_ids{};
  std::shared_ptr<sale::OrderWriter> order_writer{};  // null when disabled
  // Users and social features.
  db::UserRepository users{db};
  db::BlogRepository blogs{db};
  db::FollowRepository follows{db};
  db::UploadRepository uploads{db};
  std::unique_ptr<social::UvRecorder> uv{};  // null: visitors are not counted
  // The engines behind the handlers (built by build_engines()).
  const Clock* clock = &Clock::system();
  std::unique_ptr<shop::Catalog> catalog{};
  std::unique_ptr<social::Sessions> sessions{};
  std::unique_ptr<social::LoginCodes> login_codes{};
  std::unique_ptr<social::Login> login{};
  std::unique_ptr<social::CheckIns> check_ins{};
  std::unique_ptr<social::Likes> likes{};
  std::unique_ptr<social::Feed> feed{};
  std::unique_ptr<social::Blogs> blog_pages{};
  std::unique_ptr<social::Follows> follow_graph{};
  // The live dashboard's view beyond this process (other instances, the sale's figures).
  std::unique_ptr<DashboardFeed> dashboard{};

  // Security: proxies whose forwarding headers count, and the purchase rate limit's buckets
  // (per worker, keyed "u:<id>" and "ip:<address>"; empty when --sale-rate is 0).
  std::vector<core::Cidr> trusted_proxies{};
  PerWorker<std::unique_ptr<core::TokenBuckets>> sale_limits{};
  // Uploads per user (keyed by user id; empty when --upload-per-minute is 0).
  PerWorker<std::unique_ptr<core::TokenBuckets>> upload_limits{};

  // The calling worker's client.
  redis::Client& local_redis() { return *redis.local(); }
};

// Serves until SIGINT/SIGTERM, then drains; returns the process exit code.
int serve(Config config);

}  // namespace surge::app
