// Putting a new flash-sale voucher on sale: the row (and its flash-sale row) in MariaDB, then
// its Redis state, so the sale takes orders as soon as the caller has the id. Shared by
// POST /voucher/seckill and `surge voucher create`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "db/voucher_repository.h"
#include "redis/client.h"
#include "sale/flash_sale.h"

namespace surge::sale {

// Bounds a flash-sale voucher must meet before anything is written (the columns' ranges: the
// window within the original's TIMESTAMP columns).
inline constexpr int64_t kMaxStock = 100'000'000;
inline constexpr int64_t kMaxValue = 1'000'000'000'000;  // fen
inline constexpr int64_t kFirstSaleMs = 1000, kLastSaleMs = 2147483647000;

// What is wrong with `v` as a new flash-sale voucher, or nullopt.
std::optional<std::string> check_flash_sale(const db::Voucher& v);

// Inserts and primes; kInvalidArgument when check_flash_sale refuses `v`. On the caller's
// io_context (the client's); the repository's pool runs the SQL.
asio::awaitable<Result<int64_t>> create_flash_sale(db::VoucherRepository& vouchers, FlashSale& sale,
                                                   redis::Client& c, db::Voucher v);

}  // namespace surge::sale
