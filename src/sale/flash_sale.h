// The flash sale in Redis: one Lua script checks the sale window (Redis's own clock), the stock
// and one order per user, then decrements the stock, records the buyer and appends the order to
// its shard's stream, all atomically. Nothing on this path touches MariaDB; the order writer
// persists the stream.
//
// Keys of one voucher and of its shard's stream share the hash tag {sk<shard>}, so the script
// runs on Redis Cluster: seckill:{sk3}:voucher:<id> (hash stock/begin/end, ms),
// seckill:{sk3}:buyers:<id> (set of user ids), seckill:{sk3}:orders (stream),
// seckill:{sk3}:queued (hash order id -> "user:voucher" until the order is persisted, or
// "user:voucher:dead" once the writer moved it to the dead-letter stream).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "db/voucher_repository.h"
#include "redis/client.h"
#include "redis/script.h"

namespace surge::sale {

namespace asio = boost::asio;

// The sale's data in Redis, named once: the scripts are written with these names, and every
// reader of a voucher hash or an order stream entry (the order writer, the order queues'
// summary, dead letters) uses them.
namespace field {
// Voucher hash: stock left; the sale window as ms since the epoch.
inline constexpr std::string_view kStock = "stock";
inline constexpr std::string_view kBegin = "begin";
inline constexpr std::string_view kEnd = "end";
// Order stream entry (the original's order fields).
inline constexpr std::string_view kOrderId = "id";
inline constexpr std::string_view kUserId = "userId";
inline constexpr std::string_view kVoucherId = "voucherId";
}  // namespace field

// kUnconfirmed: the script accepted the order but no replica acknowledged it in time (or the
// node's connection was lost meanwhile). The order may stand or vanish with a failover; the
// buyer is not told it succeeded (GET /voucher-order/{id} and reconcile tell later).
enum class SaleOutcome {
  kAccepted,
  kNoStock,
  kDuplicate,
  kNoSuchVoucher,
  kNotStarted,
  kEnded,
  kUnconfirmed
};
inline constexpr size_t kSaleOutcomes = 7;

// When a purchase may answer success. replicas 0: when the master has it (a master lost before
// replicating takes acknowledged orders with it). replicas n: only once n replicas acknowledged
// it (WAIT, grouped per connection), within `timeout`.
struct Durability {
  int replicas = 0;
  std::chrono::milliseconds timeout{500};
};
const char* outcome_name(SaleOutcome o);  // metric label: accepted, no_stock, ...

// Thread-safe (immutable apart from relaxed counters); one per process.
class FlashSale {
 public:
  // Every instance must use the same number of shards (and prefix). A prefix other than
  // "seckill" gives a separate sale in the same Redis (tests use one per process).
  explicit FlashSale(int shards, std::string prefix = "seckill", Durability durability = {});

  int shards() const { return shards_; }
  const Durability& durability() const { return durability_; }
  int shard_of(int64_t voucher_id) const;
  std::string voucher_key(int64_t voucher_id) const;
  std::string buyers_key(int64_t voucher_id) const;
  std::string stream_key(int shard) const;
  std::string queued_key(int shard) const;
  std::string dead_letter_key(int shard) const;

  // One purchase attempt. `order_id` is used only when the order is accepted. Retrying with the
  // same order id after a lost answer is safe: an order already taken answers kAccepted again.
  asio::awaitable<Result<SaleOutcome>> buy(redis::Client& c, int64_t voucher_id, int64_t user_id,
                                           int64_t order_id);

  // Makes a voucher known to the sale. The window is always (re)written; the stock and buyers
  // only when Redis has no state for the voucher (first start, a new voucher, lost Redis data),
  // so a restart never resets a running sale.
  asio::awaitable<Result<void>> prime(redis::Client& c, db::SaleState state,
                                      std::vector<int64_t> buyers);

  // What Redis holds for one voucher: stock left (nullopt when Redis has no state for it) and
  // every buyer the script accepted.
  struct VoucherState {
    std::optional<int64_t> stock;
    std::set<int64_t> buyers;
  };
  asio::awaitable<Result<VoucherState>> state_of(redis::Client& c, int64_t voucher_id) const;
  // Overwrites a voucher's stock and window and removes and adds buyers (surge reconcile
  // --repair, which makes sure no purchase can run meanwhile).
  asio::awaitable<Result<void>> repair(redis::Client& c, const db::SaleState& state, int64_t stock,
                                       const std::vector<int64_t>& remove_buyers,
                                       const std::vector<int64_t>& add_buyers) const;

  // An accepted order that is not persisted yet (its marker in the shard's queued hash).
  struct QueuedOrder {
    int64_t order_id = 0;
    int64_t user_id = 0;
    int64_t voucher_id = 0;
    bool dead = false;  // dead-lettered: it will never be persisted without an operator
  };
  // The marker the order writer leaves for an order it dead-lettered.
  static std::string dead_marker(int64_t user_id, int64_t voucher_id);
  // nullopt when the order is not queued (persisted, or never accepted).
  asio::awaitable<Result<std::optional<QueuedOrder>>> queued(redis::Client& c,
                                                             int64_t order_id) const;
  // Every order queued in one shard.
  asio::awaitable<Result<std::vector<QueuedOrder>>> queued_in(redis::Client& c, int shard) const;
  // Every order queued in each of the shards 0..shards()-1 (one list per shard), in one round
  // trip per node.
  asio::awaitable<Result<std::vector<std::vector<QueuedOrder>>>> queued_in_all(
      redis::Client& c) const;

  // The purchase script, for benchmarks that run it next to redis-benchmark.
  static const redis::Script& purchase_script();

  uint64_t count(SaleOutcome o) const {
    return counts_[static_cast<size_t>(o)].load(std::memory_order_relaxed);
  }
  void render_metrics(std::string& out) const;

 private:
  std::string tag(int shard) const;
  // The marker the purchase script writes is "user:voucher"; a dead letter's adds kDeadSuffix.
  static constexpr std::string_view kDeadSuffix = ":dead";
  static std::optional<QueuedOrder> parse_marker(int64_t order_id, std::string_view marker);
  int shards_;
  std::string prefix_;
  Durability durability_;
  std::array<std::atomic<uint64_t>, kSaleOutcomes> counts_{};
};

}  // namespace surge::sale
