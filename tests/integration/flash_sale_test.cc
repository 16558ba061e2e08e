// The flash sale and the order writer against the real fixture stores: oversubscribed sales sell
// exactly the stock, one order per user, every accepted order lands in MariaDB exactly once, and
// entries the database refuses end in the dead-letter stream instead of blocking the rest.
#include <unistd.h>

#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "redis/commands.h"
#include "sale/flash_sale.h"
#include "sale/order_writer.h"
#include "support/drive.h"
#include "support/stores.h"

namespace surge::sale {
namespace {

using namespace std::chrono_literals;
using test::drive;
using test::run_co;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FlashSaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      conns_.push_back(redis::Connection::create(ctx_.get_executor(), test::stores().redis));
      conns_.back()->start();
    }
    ASSERT_TRUE(run_co(ctx_, conns_[0]->wait_ready(3s)));
    ASSERT_TRUE(run_co(ctx_, conns_[1]->wait_ready(3s)));
  }
  void TearDown() override {
    if (writer_) writer_->stop();
    for (auto& c : conns_) c->stop();
    test::drive_for(ctx_, 50ms);
    pool_.stop();
  }

  // A fresh flash-sale voucher, known to Redis, with its window open (or as given).
  int64_t make_voucher(int64_t stock, int64_t begin_ms, int64_t end_ms) {
    db::Voucher v;
    v.shop_id = 1;
    v.title = "test";
    v.pay_value = 100;
    v.actual_value = 200;
    v.stock = stock;
    v.begin_ms = begin_ms;
    v.end_ms = end_ms;
    auto id = run_co(ctx_, vouchers_.insert(v));
    EXPECT_TRUE(id) << id.error().message();
    db::SaleState st{*id, stock, begin_ms, end_ms};
    EXPECT_TRUE(run_co(ctx_, sale_.prime(*conns_[0], st, {})));
    return *id;
  }
  int64_t make_voucher(int64_t stock) {
    return make_voucher(stock, now_ms() - 60'000, now_ms() + 3'600'000);
  }

  void start_writer(WriterOptions o = {}) {
    o.consumer = "test-" + std::to_string(::getpid());
    o.block = 200ms;
    writer_ = OrderWriter::create(ctx_.get_executor(), test::stores().redis, vouchers_, sale_, o);
    writer_->start();
  }

  int64_t scalar(const std::string& sql, int64_t arg) {
    db::Params p;
    p.emplace_back(arg);
    auto rows = run_co(ctx_, pool_.query(sql, p));
    EXPECT_TRUE(rows && !rows->empty());
    return rows && !rows->empty() ? db::to_int64(rows->rows[0][0]).value_or(-1) : -1;
  }
  int64_t db_orders(int64_t voucher) {
    return scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?", voucher);
  }
  // Runs the io_context until MariaDB holds `n` orders for the voucher (or 15 s pass).
  bool wait_for_orders(int64_t voucher, int64_t n) {
    auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
      if (db_orders(voucher) == n) return true;
      test::drive_for(ctx_, 50ms);
    }
    return false;
  }

  asio::io_context ctx_;
  std::vector<std::shared_ptr<redis::Connection>> conns_;
  db::Pool pool_{test::stores().db};
  db::VoucherRepository vouchers_{pool_};
  // A sale of this process alone: surge instances of parallel tests share the fixture's Redis
  // and would otherwise read (and, when killed, strand) these entries.
  FlashSale sale_{4, "test" + std::to_string(::getpid()) + ":seckill"};
  std::shared_ptr<OrderWriter> writer_;
};

struct Attempt {
  int64_t user;
  int64_t order_id;
  Result<SaleOutcome> outcome = make_error_code(Errc::kInternal);
};

asio::awaitable<void> attempt(FlashSale& sale, redis::Connection& c, int64_t voucher, Attempt* a,
                              size_t* done) {
  a->outcome = co_await sale.buy(c, voucher, a->user, a->order_id);
  ++*done;
}

TEST_F(FlashSaleTest, FiveThousandBuyersForStockOneHundredMakeExactlyOneHundredOrders) {
  int64_t voucher = make_voucher(100);
  start_writer();
  constexpr int kBuyers = 5000;
  std::vector<Attempt> attempts;
  // Order ids unique to this test run: voucher in the high bits.
  for (int i = 0; i < kBuyers; ++i) attempts.push_back({100000 + i, voucher * 1'000'000 + i});
  size_t done = 0;
  for (int i = 0; i < kBuyers; ++i) {
    asio::co_spawn(ctx_, attempt(sale_, *conns_[i % 2], voucher, &attempts[i], &done),
                   asio::detached);
  }
  drive(
      ctx_, [&] { return done == kBuyers; }, 30s);
  std::set<int64_t> accepted_users, accepted_orders;
  int no_stock = 0;
  for (const auto& a : attempts) {
    ASSERT_TRUE(a.outcome) << a.outcome.error().message();
    if (*a.outcome == SaleOutcome::kAccepted) {
      accepted_users.insert(a.user);
      accepted_orders.insert(a.order_id);
    } else {
      EXPECT_EQ(*a.outcome, SaleOutcome::kNoStock);
      ++no_stock;
    }
  }
  EXPECT_EQ(accepted_users.size(), 100u);
  EXPECT_EQ(no_stock, kBuyers - 100);
  ASSERT_TRUE(wait_for_orders(voucher, 100)) << db_orders(voucher) << " orders in MariaDB";
  // Every accepted order, and nothing else, is in MariaDB; stock is zero on both sides.
  db::Params p;
  p.emplace_back(voucher);
  auto rows =
      run_co(ctx_, pool_.query("SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?", p));
  ASSERT_TRUE(rows);
  std::set<int64_t> db_orders_ids, db_users;
  for (const auto& r : rows->rows) {
    db_orders_ids.insert(*db::to_int64(r[0]));
    db_users.insert(*db::to_int64(r[1]));
  }
  EXPECT_EQ(db_orders_ids, accepted_orders);
  EXPECT_EQ(db_users, accepted_users);
  EXPECT_EQ(scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?", voucher), 0);
  auto stock = run_co(ctx_, redis::hget(*conns_[0], sale_.voucher_key(voucher), "stock"));
  ASSERT_TRUE(stock && *stock);
  EXPECT_EQ(**stock, "0");
  auto buyers = run_co(ctx_, redis::smembers(*conns_[0], sale_.buyers_key(voucher)));
  ASSERT_TRUE(buyers);
  EXPECT_EQ(buyers->size(), 100u);
  // Nothing is left queued for this voucher.
  for (int64_t id : accepted_orders) {
    auto q = run_co(ctx_, sale_.queued(*conns_[0], id));
    ASSERT_TRUE(q);
    EXPECT_FALSE(*q) << "order " << id << " still marked queued";
  }
}

TEST_F(FlashSaleTest, OneUserFiftyTimesAtOnceGetsOneOrder) {
  int64_t voucher = make_voucher(10);
  start_writer();
  std::vector<Attempt> attempts;
  for (int i = 0; i < 50; ++i) attempts.push_back({777, voucher * 1'000'000 + i});
  size_t done = 0;
  for (int i = 0; i < 50; ++i) {
    asio::co_spawn(ctx_, attempt(sale_, *conns_[i % 2], voucher, &attempts[i], &done),
                   asio::detached);
  }
  drive(ctx_, [&] { return done == 50; });
  int accepted = 0, duplicate = 0;
  for (const auto& a : attempts) {
    ASSERT_TRUE(a.outcome);
    accepted += *a.outcome == SaleOutcome::kAccepted;
    duplicate += *a.outcome == SaleOutcome::kDuplicate;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(duplicate, 49);
  ASSERT_TRUE(wait_for_orders(voucher, 1));
  EXPECT_EQ(scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?", voucher), 9);
}

TEST_F(FlashSaleTest, SaleWindowAndUnknownVoucherAreRefused) {
  int64_t later = make_voucher(5, now_ms() + 3'600'000, now_ms() + 7'200'000);
  int64_t over = make_voucher(5, now_ms() - 7'200'000, now_ms() - 3'600'000);
  auto a = run_co(ctx_, sale_.buy(*conns_[0], later, 1, 1));
  auto b = run_co(ctx_, sale_.buy(*conns_[0], over, 1, 2));
  auto c = run_co(ctx_, sale_.buy(*conns_[0], 987654321, 1, 3));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, SaleOutcome::kNotStarted);
  EXPECT_EQ(*b, SaleOutcome::kEnded);
  EXPECT_EQ(*c, SaleOutcome::kNoSuchVoucher);
  // Refusals change nothing.
  auto stock = run_co(ctx_, redis::hget(*conns_[0], sale_.voucher_key(later), "stock"));
  EXPECT_EQ(stock->value_or(""), "5");
}

TEST_F(FlashSaleTest, PrimeKeepsARunningSaleAndRestoresALostOne) {
  int64_t voucher = make_voucher(10);
  ASSERT_EQ(*run_co(ctx_, sale_.buy(*conns_[0], voucher, 5, voucher * 1000 + 1)),
            SaleOutcome::kAccepted);
  // A restart primes again from MariaDB's stock (still 10): the running sale keeps its 9.
  db::SaleState st{voucher, 10, now_ms() - 60'000, now_ms() + 3'600'000};
  ASSERT_TRUE(run_co(ctx_, sale_.prime(*conns_[0], st, {})));
  EXPECT_EQ(
      run_co(ctx_, redis::hget(*conns_[0], sale_.voucher_key(voucher), "stock"))->value_or(""),
      "9");
  // Lost Redis state comes back from MariaDB with its buyers, so nobody buys twice.
  ASSERT_TRUE(run_co(
      ctx_, redis::del(*conns_[0], {sale_.voucher_key(voucher), sale_.buyers_key(voucher)})));
  std::vector<int64_t> buyers{5};
  db::SaleState after{voucher, 9, st.begin_ms, st.end_ms};
  ASSERT_TRUE(run_co(ctx_, sale_.prime(*conns_[0], after, buyers)));
  EXPECT_EQ(*run_co(ctx_, sale_.buy(*conns_[0], voucher, 5, voucher * 1000 + 2)),
            SaleOutcome::kDuplicate);
}

TEST_F(FlashSaleTest, ReplayedBatchesChangeNothing) {
  int64_t voucher = make_voucher(10);
  std::vector<db::OrderRow> batch;
  for (int i = 0; i < 3; ++i) batch.push_back({voucher * 1000 + i, 200 + i, voucher, now_ms()});
  auto first = run_co(ctx_, vouchers_.persist_orders(batch));
  auto second = run_co(ctx_, vouchers_.persist_orders(batch));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 3u);
  EXPECT_EQ(*second, 0u);
  EXPECT_EQ(db_orders(voucher), 3);
  EXPECT_EQ(scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?", voucher), 7);
  // A batch the stock cannot cover is refused whole.
  std::vector<db::OrderRow> too_many;
  for (int i = 0; i < 8; ++i)
    too_many.push_back({voucher * 1000 + 10 + i, 300 + i, voucher, now_ms()});
  auto refused = run_co(ctx_, vouchers_.persist_orders(too_many));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), Errc::kConflict);
  EXPECT_EQ(db_orders(voucher), 3);
}

TEST_F(FlashSaleTest, RefusedAndMalformedEntriesGoToTheDeadLetterStreamOthersPersist) {
  int64_t voucher = make_voucher(10);
  int shard = sale_.shard_of(voucher);
  std::string stream = sale_.stream_key(shard);
  auto before =
      run_co(ctx_, conns_[0]->exec(redis::Command::make("XLEN", sale_.dead_letter_key(shard))));
  int64_t dead_before = before && before->as_integer() ? *before->as_integer() : 0;
  // A good order, one for a voucher MariaDB does not know, and garbage.
  redis::Command cmd;
  cmd.add("XADD", stream, "*", "userId", "41", "voucherId", std::to_string(voucher), "id",
          std::to_string(voucher * 1000 + 1));
  cmd.add("XADD", stream, "*", "userId", "42", "voucherId", "999999999", "id",
          std::to_string(voucher * 1000 + 2));
  cmd.add("XADD", stream, "*", "userId", "not-a-number", "voucherId", std::to_string(voucher));
  ASSERT_TRUE(run_co(ctx_, conns_[0]->exec_all(std::move(cmd))));
  WriterOptions o;
  o.max_failures = 2;
  start_writer(o);
  ASSERT_TRUE(wait_for_orders(voucher, 1));
  auto until = std::chrono::steady_clock::now() + 10s;
  int64_t dead = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto n =
        run_co(ctx_, conns_[0]->exec(redis::Command::make("XLEN", sale_.dead_letter_key(shard))));
    dead = n && n->as_integer() ? *n->as_integer() - dead_before : 0;
    if (dead >= 2) break;
    test::drive_for(ctx_, 50ms);
  }
  EXPECT_EQ(dead, 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?", 999999999), 0);
}

TEST(OrderEntry, ParsesTheStreamFieldsAndTheAcceptTime) {
  redis::StreamEntry e{"1700000000123-4", {{"userId", "7"}, {"voucherId", "9"}, {"id", "123"}}};
  auto row = order_from_entry(e);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->id, 123);
  EXPECT_EQ(row->user_id, 7);
  EXPECT_EQ(row->voucher_id, 9);
  EXPECT_EQ(row->create_ms, 1700000000123);
  e.fields[0].second = "-7";
  EXPECT_FALSE(order_from_entry(e));
}

}  // namespace
}  // namespace surge::sale
