// The order writer: persists the flash sale's order streams into MariaDB. Every instance runs
// one, as a member of one consumer group; each shard's stream is read by its own loop on its own
// connection (XREADGROUP BLOCK would stall a shared one).
//
// Per batch: one transaction (multi-row INSERT IGNORE + guarded stock update; the primary and
// unique keys make a replay harmless), XACK and the queued-marker removal only after the commit.
// On start a loop first re-reads its own pending entries (a restarted instance with the same
// consumer name finishes what it had read); XAUTOCLAIM takes over entries idle too long in other
// (dead) consumers. While MariaDB is unreachable, or a transaction loses a lock race (deadlock,
// lock wait timeout), a batch is held and retried with backoff until it is durable, so nothing
// transient ever counts as a failed delivery. Only an entry the database refuses for its content
// is retried `max_failures` times and then moved to the shard's dead-letter stream, and so is
// an order whose (user, voucher) already has a different order (a collision, not a replay); a
// dead-lettered order's queued marker says so. Acknowledged entries older than `retention` are
// trimmed from the stream; entries not yet acknowledged never are.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "db/voucher_repository.h"
#include "redis/client.h"
#include "redis/commands.h"
#include "sale/flash_sale.h"

namespace surge::sale {

struct WriterOptions {
  std::string group = "order-writers";
  std::string consumer = "surge";  // unique per instance, stable across its restarts
  int64_t batch = 1000;
  std::chrono::milliseconds block{1000};
  std::chrono::milliseconds claim_idle{30'000};  // an entry pending this long has a dead reader
  std::chrono::milliseconds claim_every{5'000};
  int max_failures = 5;
  std::chrono::milliseconds retention{std::chrono::hours(24)};  // of acknowledged entries
  std::chrono::milliseconds trim_every{std::chrono::seconds(10)};
  // Entries are persisted only once this many replicas hold them (a WAIT after each read), so
  // MariaDB never keeps an order that a failover takes back from Redis.
  int replicas = 0;
  std::chrono::milliseconds replica_timeout{500};
};

// Makes the client one shard loop reads through (its own: a blocked read would stall a shared
// one), on the writer's executor; `request_timeout` allows for the blocked read.
using ShardClientFactory = std::function<std::shared_ptr<redis::Client>(
    const std::string& client_name, std::chrono::milliseconds request_timeout)>;
// One connection to a single Redis per shard.
ShardClientFactory node_clients(asio::any_io_executor ex, redis::Options options);

struct WriterStats {
  uint64_t persisted = 0;  // rows inserted
  uint64_t replayed = 0;   // entries whose row already existed
  uint64_t batches = 0;
  uint64_t claimed = 0;
  uint64_t dead_letters = 0;
  uint64_t collisions = 0;    // orders whose (user, voucher) already held another order
  uint64_t retries = 0;       // failed commits (outage, lock race or refused data)
  uint64_t trimmed = 0;       // acknowledged entries removed from the streams
  uint64_t unreplicated = 0;  // reads held back because no replica acknowledged them
  int64_t lag = 0;            // entries not yet read plus entries read but not acknowledged
};

// Runs on one io_context (its executor is given at construction); the repository and the sale
// must outlive it. stop() may be called from any thread; the loops end after their current step.
class OrderWriter : public std::enable_shared_from_this<OrderWriter> {
 public:
  static std::shared_ptr<OrderWriter> create(asio::any_io_executor ex, ShardClientFactory redis,
                                             db::VoucherRepository& orders, const FlashSale& sale,
                                             WriterOptions options);
  void start();
  void stop();
  WriterStats stats() const;
  void render_metrics(std::string& out) const;

 private:
  struct Shard;
  OrderWriter(asio::any_io_executor ex, const ShardClientFactory& redis,
              db::VoucherRepository& orders, const FlashSale& sale, WriterOptions options);
  asio::awaitable<void> run_shard(std::shared_ptr<Shard> shard);
  asio::awaitable<bool> ensure_group(Shard& shard);
  asio::awaitable<void> handle(Shard& shard, std::vector<redis::StreamEntry> entries);
  // Whether `options_.replicas` replicas hold what `read` returned (WAIT on its connection).
  asio::awaitable<bool> on_replicas(Shard& shard, const redis::Written& read, size_t n);
  enum class Commit { kDone, kRefused, kStopped };
  // On kDone, `collided` holds the indexes of rows that were collisions (left unacknowledged
  // for the caller to dead-letter).
  asio::awaitable<Commit> commit(Shard& shard, std::vector<db::OrderRow> rows,
                                 std::vector<std::string> ids, bool single,
                                 std::vector<size_t>& collided);
  asio::awaitable<void> acknowledge(Shard& shard, std::vector<std::string> ids,
                                    std::vector<db::OrderRow> rows);
  // `row`, when the entry parsed, also marks the order dead in the queued hash.
  asio::awaitable<void> dead_letter(Shard& shard, redis::StreamEntry entry, std::string why,
                                    std::optional<db::OrderRow> row);
  asio::awaitable<void> measure_lag(Shard& shard);
  asio::awaitable<void> trim(Shard& shard);
  asio::awaitable<void> pause(Shard& shard, std::chrono::milliseconds d);

  asio::any_io_executor ex_;
  db::VoucherRepository& orders_;
  const FlashSale& sale_;
  WriterOptions options_;
  std::vector<std::shared_ptr<Shard>> shards_;
  std::atomic<bool> stopping_{false};
  struct Counters {
    std::atomic<uint64_t> persisted{0}, replayed{0}, batches{0}, claimed{0}, dead_letters{0},
        collisions{0}, retries{0}, trimmed{0}, unreplicated{0};
  } counters_;
};

// Parses one stream entry into an order row; the accept time is the entry id's milliseconds.
Result<db::OrderRow> order_from_entry(const redis::StreamEntry& e);

}  // namespace surge::sale
