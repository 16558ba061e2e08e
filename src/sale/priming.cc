// Voucher priming: one round of EXISTS (per node on a cluster), then one script per voucher: which
// vouchers Redis knows, then one script each.
#include "sale/priming.h"

#include "redis/pipeline.h"

namespace surge::sale {

namespace asio = boost::asio;

asio::awaitable<Result<size_t>> prime_all(db::VoucherRepository& vouchers, FlashSale& sale,
                                          redis::Client& redis) {
  auto states = co_await vouchers.sale_states();
  if (!states) co_return states.error();
  if (states->empty()) co_return size_t{0};
  // Which vouchers Redis already knows, in one round trip: only the others need their buyers
  // read from MariaDB.
  std::vector<redis::Request> exists;
  for (const auto& st : *states) {
    exists.push_back(redis::Request::keyed(1, "EXISTS", sale.voucher_key(st.voucher_id)));
  }
  auto known = co_await redis::exec_each<int64_t>(redis, std::move(exists));
  if (!known) co_return known.error();
  for (size_t i = 0; i < states->size(); ++i) {
    const auto& st = (*states)[i];
    std::vector<int64_t> buyers;
    if ((*known)[i] == 0) {
      auto b = co_await vouchers.buyers(st.voucher_id);
      if (!b) co_return b.error();
      buyers = std::move(*b);
    }
    auto primed = co_await sale.prime(redis, st, std::move(buyers));
    if (!primed) co_return primed.error();
  }
  co_return states->size();
}

}  // namespace surge::sale
