// The running process: worker io_contexts, per-worker Redis connections, the MariaDB pool, and
// the HTTP server wired to the API.
#pragma once

#include <memory>
#include <vector>

#include "app/config.h"
#include "app/uv_recorder.h"
#include "cache/read_through.h"
#include "db/blog_repository.h"
#include "db/follow_repository.h"
#include "db/pool.h"
#include "db/shop_repository.h"
#include "db/user_repository.h"
#include "db/voucher_repository.h"
#include "http/metrics.h"
#include "redis/connection.h"
#include "sale/flash_sale.h"
#include "sale/id_generator.h"
#include "sale/order_writer.h"

namespace surge::app {

// Shared by every handler. Per-worker members are indexed by Context::worker and only touched
// on that worker's thread.
struct Services {
  const Config& config;
  db::Pool& db;
  db::ShopRepository shops;
  std::vector<std::shared_ptr<redis::Connection>> redis;  // one per worker
  http::Metrics* metrics = nullptr;
  std::unique_ptr<cache::ReadThrough> shop_cache{};
  std::unique_ptr<cache::BloomFilter> shop_bloom{};
  std::unique_ptr<cache::ReadThrough> type_cache{};
  // Vouchers and the flash sale.
  std::unique_ptr<db::VoucherRepository> vouchers{};
  std::unique_ptr<sale::FlashSale> sale{};
  std::vector<std::unique_ptr<sale::IdGenerator>> order_ids{};  // one per worker
  std::shared_ptr<sale::OrderWriter> order_writer{};            // null when disabled
  // Users and social features.
  db::UserRepository users{db};
  db::BlogRepository blogs{db};
  db::FollowRepository follows{db};
  std::unique_ptr<UvRecorder> uv{};  // null: visitors are not counted

  redis::Connection& redis_for(size_t worker) { return *redis[worker]; }
};

// The original's geo index of shops of one type: shop:geo:{typeId}.
std::string geo_key(int64_t type_id);

// Makes every flash-sale voucher in MariaDB known to the sale in Redis (stock and buyers only
// where Redis has no state for it). Returns the number of vouchers.
boost::asio::awaitable<Result<size_t>> prime_flash_sale(db::VoucherRepository& vouchers,
                                                        sale::FlashSale& sale,
                                                        redis::Connection& redis);

// Serves until SIGINT/SIGTERM, then drains; returns the process exit code.
int serve(Config config);

}  // namespace surge::app
