// Vouchers, flash-sale vouchers and their orders in MariaDB (tb_voucher, tb_seckill_voucher,
// tb_voucher_order). The order writer's batch transaction lives here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/pool.h"

namespace surge::db {

struct Voucher {
  int64_t id = 0;
  int64_t shop_id = 0;
  std::string title;
  std::string sub_title;
  std::string rules;
  int64_t pay_value = 0;     // fen
  int64_t actual_value = 0;  // fen
  int64_t type = 0;          // 0 normal, 1 flash sale
  int64_t status = 1;        // 1 on sale, 2 withdrawn, 3 expired
  // Flash-sale vouchers only (type 1): stock and sale window, epoch milliseconds.
  std::optional<int64_t> stock;
  int64_t begin_ms = 0;
  int64_t end_ms = 0;
  std::string create_time;  // ISO-8601 local form, as shops render it
  std::string update_time;
};

// What the flash sale needs of one voucher.
struct SaleState {
  int64_t voucher_id = 0;
  int64_t stock = 0;  // as persisted: the initial stock less every persisted order
  int64_t begin_ms = 0;
  int64_t end_ms = 0;
};

struct OrderRow {
  int64_t id = 0;
  int64_t user_id = 0;
  int64_t voucher_id = 0;
  int64_t create_ms = 0;  // when the sale accepted it
};

struct Order {
  OrderRow row;
  int64_t status = 1;
  int64_t pay_type = 1;
  std::string create_time;
};

// Borrows the pool, which must outlive it. Safe to share between threads.
class VoucherRepository {
 public:
  explicit VoucherRepository(Pool& pool) : pool_(pool) {}

  // Inserts a voucher; with `stock` set, also its flash-sale row, in one transaction.
  asio::awaitable<Result<int64_t>> insert(Voucher v);
  // Vouchers on sale for one shop, flash-sale fields filled where they apply.
  asio::awaitable<Result<std::vector<Voucher>>> on_sale_for_shop(int64_t shop_id);
  asio::awaitable<Result<std::vector<SaleState>>> sale_states();
  asio::awaitable<Result<std::optional<SaleState>>> sale_state(int64_t voucher_id);
  // User ids holding an order for the voucher.
  asio::awaitable<Result<std::vector<int64_t>>> buyers(int64_t voucher_id);
  asio::awaitable<Result<std::optional<Order>>> find_order(int64_t order_id);
  // Persisted orders per voucher (vouchers with none are absent).
  asio::awaitable<Result<std::map<int64_t, int64_t>>> order_counts();

  // One transaction: every row inserted unless already present, and each voucher's stock
  // lowered by the rows that were new, guarded by stock >= n. A row that is not new is either a
  // replay (the same order is stored under its id: harmless) or a collision (the user already
  // holds another order for the voucher, or another order holds its id: the order it stands for
  // was not stored and never will be by this row).
  // kConflict (and nothing written) when a voucher's stock cannot cover its new rows or a
  // voucher is unknown; kUnavailable when the server cannot be reached; kTimeout when the
  // transaction lost a lock race (deadlock, lock wait timeout) and may simply be retried.
  struct Persisted {
    size_t inserted = 0;
    size_t replayed = 0;
    std::vector<int64_t> collisions;  // order ids
  };
  asio::awaitable<Result<Persisted>> persist_orders(std::vector<OrderRow> batch);

 private:
  Pool& pool_;
};

// Row decoding, exposed for tests.
Result<Voucher> voucher_from_row(const Rows& rows, size_t i);

}  // namespace surge::db
