// The flash sale's Redis-vs-MariaDB rule for one voucher.
#include "core/reconcile.h"

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Reconcile, QueuedOrdersAreNotDifferences) {
  VoucherSnapshot s;
  s.db_stock = 8;  // 10 initial, 2 persisted
  s.db_buyers = {1, 2};
  s.queued_buyers = {3};
  s.redis_buyers = {1, 2, 3};
  s.redis_stock = 7;
  auto d = compare(s);
  EXPECT_TRUE(d.clean());
  EXPECT_EQ(d.expected_stock, 7);
}

// The writer commits, then removes the queued marker: a report in between sees the buyer in both.
TEST(Reconcile, AQueuedOrderAlreadyPersistedCountsOnce) {
  VoucherSnapshot s;
  s.db_stock = 7;  // 10 initial, 3 persisted
  s.db_buyers = {1, 2, 3};
  s.queued_buyers = {3, 4};  // 3 committed, marker not yet removed; 4 really queued
  s.redis_buyers = {1, 2, 3, 4};
  s.redis_stock = 6;
  auto d = compare(s);
  EXPECT_TRUE(d.clean()) << d.expected_stock;
  EXPECT_EQ(d.queued, 1);
  EXPECT_EQ(d.expected_stock, 6);
}

TEST(Reconcile, ReportsLostBuyersMissingBuyersAndStock) {
  VoucherSnapshot s;
  s.db_stock = 8;
  s.db_buyers = {1, 2};
  s.redis_buyers = {2, 9};  // 9 accepted but lost; 1 persisted but forgotten by Redis
  s.redis_stock = 6;
  auto d = compare(s);
  EXPECT_FALSE(d.clean());
  EXPECT_TRUE(d.stock_differs);
  EXPECT_EQ(d.expected_stock, 8);
  EXPECT_EQ(d.lost, std::vector<int64_t>{9});
  EXPECT_EQ(d.missing, std::vector<int64_t>{1});
}

TEST(Reconcile, MissingRedisStateIsADifference) {
  VoucherSnapshot s;
  s.db_stock = 5;
  auto d = compare(s);
  EXPECT_TRUE(d.missing_state);
  EXPECT_FALSE(d.stock_differs);
  EXPECT_FALSE(d.clean());
}

}  // namespace
}  // namespace surge::core
