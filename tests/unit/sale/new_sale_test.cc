// The checks a new flash-sale voucher passes before anything is written.
#include <gtest/gtest.h>

#include "sale/new_sale.h"

namespace surge::sale {
namespace {

db::Voucher good() {
  db::Voucher v;
  v.shop_id = 1;
  v.title = "t";
  v.pay_value = 100;
  v.actual_value = 200;
  v.stock = 10;
  v.begin_ms = 1'800'000'000'000;
  v.end_ms = v.begin_ms + 60'000;
  return v;
}

TEST(CheckFlashSale, AcceptsAWholeVoucher) { EXPECT_EQ(check_flash_sale(good()), std::nullopt); }

TEST(CheckFlashSale, RefusesEachFieldOutOfRange) {
  std::vector<void (*)(db::Voucher&)> breakers = {
      [](db::Voucher& v) { v.shop_id = 0; },
      [](db::Voucher& v) { v.title.clear(); },
      [](db::Voucher& v) { v.title.assign(256, 'x'); },
      [](db::Voucher& v) { v.pay_value = -1; },
      [](db::Voucher& v) { v.actual_value = kMaxValue + 1; },
      [](db::Voucher& v) { v.stock.reset(); },
      [](db::Voucher& v) { v.stock = 0; },
      [](db::Voucher& v) { v.stock = kMaxStock + 1; },
      [](db::Voucher& v) { v.begin_ms = 0; },
      [](db::Voucher& v) { v.end_ms = kLastSaleMs + 1; },
      [](db::Voucher& v) { v.end_ms = v.begin_ms; },
  };
  for (size_t i = 0; i < breakers.size(); ++i) {
    auto v = good();
    breakers[i](v);
    EXPECT_NE(check_flash_sale(v), std::nullopt) << "case " << i;
  }
}

}  // namespace
}  // namespace surge::sale
