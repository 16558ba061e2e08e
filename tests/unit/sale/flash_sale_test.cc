// The flash sale's pure parts: shards, key layout (one hash tag per shard, so each script's keys
// live on one cluster node) and outcome names.
#include "sale/flash_sale.h"

#include <gtest/gtest.h>

namespace surge::sale {
namespace {

TEST(FlashSale, VouchersSpreadOverShardsByRemainder) {
  FlashSale sale(4);
  EXPECT_EQ(sale.shards(), 4);
  EXPECT_EQ(sale.shard_of(8), 0);
  EXPECT_EQ(sale.shard_of(9), 1);
  EXPECT_EQ(sale.shard_of(11), 3);
  EXPECT_EQ(FlashSale(0).shards(), 1);  // at least one
}

TEST(FlashSale, EveryKeyOfAVoucherSharesItsShardsHashTag) {
  FlashSale sale(4);
  EXPECT_EQ(sale.voucher_key(9), "seckill:{sk1}:voucher:9");
  EXPECT_EQ(sale.buyers_key(9), "seckill:{sk1}:buyers:9");
  EXPECT_EQ(sale.stream_key(1), "seckill:{sk1}:orders");
  EXPECT_EQ(sale.queued_key(1), "seckill:{sk1}:queued");
  EXPECT_EQ(sale.dead_letter_key(1), "seckill:{sk1}:dead");
  EXPECT_EQ(FlashSale(2, "t1").voucher_key(4), "t1:{sk0}:voucher:4");
}

TEST(FlashSale, OutcomesHaveMetricNames) {
  EXPECT_STREQ(outcome_name(SaleOutcome::kAccepted), "accepted");
  EXPECT_STREQ(outcome_name(SaleOutcome::kNoStock), "no_stock");
  EXPECT_STREQ(outcome_name(SaleOutcome::kDuplicate), "duplicate");
  EXPECT_STREQ(outcome_name(SaleOutcome::kNoSuchVoucher), "no_such_voucher");
  EXPECT_STREQ(outcome_name(SaleOutcome::kNotStarted), "not_started");
  EXPECT_STREQ(outcome_name(SaleOutcome::kEnded), "ended");
}

}  // namespace
}  // namespace surge::sale
