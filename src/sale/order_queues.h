// The operator's view of the order pipeline (`surge orders`): per voucher, how many orders are
// queued, persisted and dead-lettered; per shard, the stream's backlog; the dead letters
// themselves, and their replay once the cause is fixed. Reads and moves only what the purchase
// script and the order writer (sale/order_writer.h) write, with the same keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "db/voucher_repository.h"
#include "redis/connection.h"
#include "sale/flash_sale.h"

namespace surge::sale {

// Stateless apart from its settings: used on whichever io_context owns the connection passed
// in (a command's own). The sale must outlive it.
class OrderQueues {
 public:
  explicit OrderQueues(const FlashSale& sale, std::string group = "order-writers")
      : sale_(sale), group_(std::move(group)) {}

  struct VoucherCounts {
    int64_t voucher_id = 0;
    int shard = 0;          // whose stream carries its orders (its lag is the shard's)
    int64_t stock = 0;      // left in Redis, what the purchase script decrements
    int64_t accepted = 0;   // buyers the script ever accepted (its buyers set), every instance's
    int64_t queued = 0;     // accepted, waiting for the writer
    int64_t persisted = 0;  // rows in MariaDB
    int64_t dead = 0;       // in a dead-letter stream
  };
  struct ShardBacklog {
    int shard = 0;
    int64_t length = 0;   // entries in the stream (acknowledged ones until trimmed)
    int64_t unread = 0;   // not yet delivered to the writers' group
    int64_t pending = 0;  // delivered, not yet acknowledged
    int64_t dead_letters = 0;
    bool grouped = false;  // the writers' group exists (a writer has run)
  };
  struct Summary {
    std::vector<VoucherCounts> vouchers;  // by id
    std::vector<ShardBacklog> shards;
  };
  // Which vouchers a summary covers.
  struct Selection {
    // Empty: every flash-sale voucher and every voucher with an order anywhere.
    std::vector<int64_t> only;
    // Set: only the active ones, those whose sale window holds this instant or with orders
    // queued or dead-lettered (a dashboard need not list every sale that ever ran).
    std::optional<int64_t> active_at_ms;
    // At most this many, the highest ids (the newest sales) first.
    size_t limit = SIZE_MAX;
  };
  // Every figure comes from the stores (Redis and MariaDB), never from this process's
  // counters, so any instance sees the same numbers.
  asio::awaitable<Result<Summary>> summary(redis::Client& c, db::VoucherRepository& vouchers,
                                           const Selection& selection) const;

  struct DeadLetter {
    int shard = 0;
    std::string id;     // in the dead-letter stream
    std::string entry;  // the original order stream entry
    std::string reason;
    // Absent when the entry did not carry a whole order (a malformed entry).
    std::optional<int64_t> order_id, user_id, voucher_id;
  };
  // Oldest first, shard by shard; `only` non-empty limits the list to those vouchers' orders.
  asio::awaitable<Result<std::vector<DeadLetter>>> dead_letters(
      redis::Client& c, const std::vector<int64_t>& only = {}) const;

  // Moves one dead letter back: in one script, its order is appended to its shard's order
  // stream, its queued marker becomes "user:voucher" again and the dead letter is deleted, so
  // the writer persists it like any order (once: the order id is the row's primary key, a
  // duplicate is acknowledged as done) or, if the cause persists, dead-letters it again.
  enum class Replay { kReplayed, kGone, kMalformed };
  asio::awaitable<Result<Replay>> replay(redis::Client& c, const DeadLetter& d) const;

 private:
  const FlashSale& sale_;
  std::string group_;
};

}  // namespace surge::sale
