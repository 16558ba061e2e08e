// Start-up priming: makes every flash-sale voucher in MariaDB known to the sale in Redis.
#pragma once

#include <cstddef>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/voucher_repository.h"
#include "redis/client.h"
#include "sale/flash_sale.h"

namespace surge::sale {

// Primes every flash-sale voucher: the window always, stock and buyers only where Redis has no
// state for it (so a running sale is never reset). Returns the number of vouchers.
boost::asio::awaitable<Result<size_t>> prime_all(db::VoucherRepository& vouchers, FlashSale& sale,
                                                 redis::Client& redis);

}  // namespace surge::sale
