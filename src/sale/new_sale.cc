// A new flash-sale voucher in both stores.
#include "sale/new_sale.h"

#include <fmt/format.h>

namespace surge::sale {

std::optional<std::string> check_flash_sale(const db::Voucher& v) {
  if (v.shop_id < 1) return "shop id must be positive";
  if (v.title.empty() || v.title.size() > 255) return "title must have 1 to 255 bytes";
  if (v.pay_value < 0 || v.pay_value > kMaxValue || v.actual_value < 0 ||
      v.actual_value > kMaxValue) {
    return fmt::format("values must be within 0..{} fen", kMaxValue);
  }
  if (!v.stock || *v.stock < 1 || *v.stock > kMaxStock) {
    return fmt::format("stock must be within 1..{}", kMaxStock);
  }
  if (v.begin_ms < kFirstSaleMs || v.end_ms > kLastSaleMs) {
    return "the sale window must lie within 1970-01-01T00:00:01 .. 2038-01-19T03:14:07 UTC";
  }
  if (v.end_ms <= v.begin_ms) return "the sale must end after it begins";
  return std::nullopt;
}

asio::awaitable<Result<int64_t>> create_flash_sale(db::VoucherRepository& vouchers, FlashSale& sale,
                                                   redis::Client& c, db::Voucher v) {
  if (check_flash_sale(v)) co_return make_error_code(Errc::kInvalidArgument);
  db::SaleState state{0, *v.stock, v.begin_ms, v.end_ms};
  auto id = co_await vouchers.insert(std::move(v));
  if (!id) co_return id.error();
  state.voucher_id = *id;
  // A new voucher has no buyers; priming writes its stock because Redis has no state for it.
  std::vector<int64_t> no_buyers;
  auto primed = co_await sale.prime(c, state, std::move(no_buyers));
  if (!primed) co_return primed.error();
  co_return *id;
}

}  // namespace surge::sale
