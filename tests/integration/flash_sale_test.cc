// The flash sale and the order writer against the real fixture stores: oversubscribed sales sell
// exactly the stock, one order per user, every accepted order lands in MariaDB exactly once, and
// entries the database refuses end in the dead-letter stream instead of blocking the rest.
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "db/connection.h"
#include "redis/commands.h"
#include "sale/flash_sale.h"
#include "sale/order_queues.h"
#include "sale/order_writer.h"
#include "sale/sale_figures.h"
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
      conns_.push_back(redis::NodeClient::create(ctx_.get_executor(), test::stores().redis));
      conns_.back()->start();
      nodes_.push_back(std::make_unique<redis::NodeClient>(*conns_.back()));
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
    EXPECT_TRUE(run_co(ctx_, sale_.prime(*nodes_[0], st, {})));
    return *id;
  }
  int64_t make_voucher(int64_t stock) {
    return make_voucher(stock, now_ms() - 60'000, now_ms() + 3'600'000);
  }

  std::string consumer() const { return "test-" + std::to_string(::getpid()); }
  void start_writer(WriterOptions o = {}, db::VoucherRepository* repo = nullptr) {
    o.consumer = consumer();
    o.block = 200ms;
    writer_ = OrderWriter::create(ctx_.get_executor(),
                                  node_clients(ctx_.get_executor(), test::stores().redis),
                                  repo ? *repo : vouchers_, sale_, o);
    writer_->start();
  }
  void stop_writer() {
    writer_->stop();
    test::drive_for(ctx_, 400ms);  // its blocked read (200 ms) ends
    writer_.reset();
  }

  // An accepted order as the purchase script leaves it: a stream entry and a queued marker.
  // Returns the entry id.
  std::string enqueue(int64_t order_id, int64_t user, int64_t voucher) {
    int shard = sale_.shard_of(voucher);
    redis::Command cmd;
    cmd.add("XADD", sale_.stream_key(shard), "*", "userId", user, "voucherId", voucher, "id",
            order_id);
    cmd.add("HSET", sale_.queued_key(shard), order_id,
            std::to_string(user) + ":" + std::to_string(voucher));
    auto r = run_co(ctx_, conns_[0]->connection().exec_all(std::move(cmd)));
    EXPECT_TRUE(r && r->size() == 2 && (*r)[0].is_string());
    return r && !r->empty() ? (*r)[0].str : std::string();
  }
  int64_t xlen(const std::string& key) {
    auto n = run_co(ctx_, conns_[0]->connection().exec(redis::Command::make("XLEN", key)));
    return n && n->as_integer() ? *n->as_integer() : -1;
  }
  // Runs the io_context until `done()` holds (or 20 s pass).
  template <class Pred>
  bool wait_until(Pred done) {
    auto until = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      test::drive_for(ctx_, 20ms);
    }
    return true;
  }
  int64_t stock(int64_t voucher) {
    return scalar("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?", voucher);
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
  std::vector<std::shared_ptr<redis::NodeClient>> conns_;
  std::vector<std::unique_ptr<redis::NodeClient>> nodes_;  // the engines' view of conns_
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

asio::awaitable<void> attempt(FlashSale& sale, redis::Client& c, int64_t voucher, Attempt* a,
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
    asio::co_spawn(ctx_, attempt(sale_, *nodes_[i % 2], voucher, &attempts[i], &done),
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
    auto q = run_co(ctx_, sale_.queued(*nodes_[0], id));
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
    asio::co_spawn(ctx_, attempt(sale_, *nodes_[i % 2], voucher, &attempts[i], &done),
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
  auto a = run_co(ctx_, sale_.buy(*nodes_[0], later, 1, 1));
  auto b = run_co(ctx_, sale_.buy(*nodes_[0], over, 1, 2));
  auto c = run_co(ctx_, sale_.buy(*nodes_[0], 987654321, 1, 3));
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
  ASSERT_EQ(*run_co(ctx_, sale_.buy(*nodes_[0], voucher, 5, voucher * 1000 + 1)),
            SaleOutcome::kAccepted);
  // A restart primes again from MariaDB's stock (still 10): the running sale keeps its 9.
  db::SaleState st{voucher, 10, now_ms() - 60'000, now_ms() + 3'600'000};
  ASSERT_TRUE(run_co(ctx_, sale_.prime(*nodes_[0], st, {})));
  EXPECT_EQ(
      run_co(ctx_, redis::hget(*conns_[0], sale_.voucher_key(voucher), "stock"))->value_or(""),
      "9");
  // Lost Redis state comes back from MariaDB with its buyers, so nobody buys twice.
  ASSERT_TRUE(run_co(
      ctx_, redis::del(*conns_[0], {sale_.voucher_key(voucher), sale_.buyers_key(voucher)})));
  std::vector<int64_t> buyers{5};
  db::SaleState after{voucher, 9, st.begin_ms, st.end_ms};
  ASSERT_TRUE(run_co(ctx_, sale_.prime(*nodes_[0], after, buyers)));
  EXPECT_EQ(*run_co(ctx_, sale_.buy(*nodes_[0], voucher, 5, voucher * 1000 + 2)),
            SaleOutcome::kDuplicate);
}

TEST_F(FlashSaleTest, ReplayedBatchesChangeNothing) {
  int64_t voucher = make_voucher(10);
  std::vector<db::OrderRow> batch;
  for (int i = 0; i < 3; ++i) batch.push_back({voucher * 1000 + i, 200 + i, voucher, now_ms()});
  auto first = run_co(ctx_, vouchers_.persist_orders(batch));
  auto second = run_co(ctx_, vouchers_.persist_orders(batch));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->inserted, 3u);
  EXPECT_EQ(second->inserted, 0u);
  EXPECT_EQ(second->replayed, 3u);
  EXPECT_TRUE(second->collisions.empty());
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
  auto before = run_co(ctx_, conns_[0]->connection().exec(
                                 redis::Command::make("XLEN", sale_.dead_letter_key(shard))));
  int64_t dead_before = before && before->as_integer() ? *before->as_integer() : 0;
  // A good order, one for a voucher MariaDB does not know, and garbage.
  redis::Command cmd;
  cmd.add("XADD", stream, "*", "userId", "41", "voucherId", std::to_string(voucher), "id",
          std::to_string(voucher * 1000 + 1));
  cmd.add("XADD", stream, "*", "userId", "42", "voucherId", "999999999", "id",
          std::to_string(voucher * 1000 + 2));
  cmd.add("XADD", stream, "*", "userId", "not-a-number", "voucherId", std::to_string(voucher));
  ASSERT_TRUE(run_co(ctx_, conns_[0]->connection().exec_all(std::move(cmd))));
  WriterOptions o;
  o.max_failures = 2;
  start_writer(o);
  ASSERT_TRUE(wait_for_orders(voucher, 1));
  auto until = std::chrono::steady_clock::now() + 10s;
  int64_t dead = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto n = run_co(ctx_, conns_[0]->connection().exec(
                              redis::Command::make("XLEN", sale_.dead_letter_key(shard))));
    dead = n && n->as_integer() ? *n->as_integer() - dead_before : 0;
    if (dead >= 2) break;
    test::drive_for(ctx_, 50ms);
  }
  EXPECT_EQ(dead, 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?", 999999999), 0);
}

TEST_F(FlashSaleTest, ABatchMixingNewAndStoredRowsLowersTheStockByTheNewRowsOnly) {
  int64_t voucher = make_voucher(10);
  std::vector<db::OrderRow> stored, mixed;
  for (int i = 0; i < 4; ++i) {
    db::OrderRow r{voucher * 1000 + i, 600 + i, voucher, now_ms()};
    if (i < 2) stored.push_back(r);
    mixed.push_back(r);
  }
  ASSERT_TRUE(run_co(ctx_, vouchers_.persist_orders(stored)));
  ASSERT_EQ(stock(voucher), 8);
  auto r = run_co(ctx_, vouchers_.persist_orders(mixed));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted, 2u);
  EXPECT_EQ(r->replayed, 2u);
  EXPECT_TRUE(r->collisions.empty());
  EXPECT_EQ(stock(voucher), 6);
  EXPECT_EQ(db_orders(voucher), 4);
}

// INSERT IGNORE also skips a row whose id is new when its (user, voucher) already has an order:
// that is not a replay. The order it stands for was confirmed to a buyer and will never exist.
TEST_F(FlashSaleTest, AFreshIdForAnExistingUserAndVoucherIsACollisionNotAReplay) {
  int64_t voucher = make_voucher(10);
  db::OrderRow first{voucher * 1000 + 1, 700, voucher, now_ms()};
  db::OrderRow other{voucher * 1000 + 2, 700, voucher, now_ms()};
  ASSERT_TRUE(run_co(ctx_, vouchers_.persist_orders({first})));
  auto r = run_co(ctx_, vouchers_.persist_orders({first, other}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted, 0u);
  EXPECT_EQ(r->replayed, 1u);
  EXPECT_EQ(r->collisions, std::vector<int64_t>{other.id});
  EXPECT_EQ(stock(voucher), 9);

  // Through the writer: dead-lettered with its reason, counted, its marker says so, and it is
  // not acknowledged as a replay.
  int shard = sale_.shard_of(voucher);
  int64_t dead_before = std::max<int64_t>(0, xlen(sale_.dead_letter_key(shard)));
  std::string entry = enqueue(other.id, 700, voucher);
  start_writer();
  ASSERT_TRUE(wait_until([&] { return writer_->stats().dead_letters == 1; }))
      << "replayed " << writer_->stats().replayed;
  EXPECT_EQ(writer_->stats().collisions, 1u);
  EXPECT_EQ(writer_->stats().replayed, 0u);
  EXPECT_EQ(writer_->stats().persisted, 0u);
  EXPECT_EQ(xlen(sale_.dead_letter_key(shard)), dead_before + 1);
  auto last = run_co(ctx_, conns_[0]->connection().exec(redis::Command::make(
                               "XREVRANGE", sale_.dead_letter_key(shard), "+", "-", "COUNT", 1)));
  ASSERT_TRUE(last && last->is_array() && last->elements.size() == 1);
  auto dead = redis::to_stream_entry(last->elements[0]);
  ASSERT_TRUE(dead);
  std::map<std::string, std::string> fields(dead->fields.begin(), dead->fields.end());
  EXPECT_EQ(fields["entry"], entry);
  EXPECT_TRUE(fields["reason"].starts_with("collision")) << fields["reason"];
  auto q = run_co(ctx_, sale_.queued(*nodes_[0], other.id));
  ASSERT_TRUE(q && *q);
  EXPECT_TRUE((*q)->dead);
  auto metrics = std::string();
  writer_->render_metrics(metrics);
  EXPECT_NE(metrics.find("\nsurge_order_collisions_total 1\n"), std::string::npos) << metrics;
  EXPECT_EQ(stock(voucher), 9);
}

// An id handed out twice (an id counter that lost its state, or two sales feeding one database)
// with another user's order already stored under it: the new order is not a replay. Acknowledged
// as one, it would be lost without a trace; it is a collision, dead-lettered for an operator.
TEST_F(FlashSaleTest, AnIdAlreadyHeldByAnotherOrderIsACollisionNotAReplay) {
  int64_t voucher = make_voucher(10);
  db::OrderRow first{voucher * 1000 + 1, 710, voucher, now_ms()};
  db::OrderRow same_id{voucher * 1000 + 1, 711, voucher, now_ms()};
  ASSERT_TRUE(run_co(ctx_, vouchers_.persist_orders({first})));
  auto r = run_co(ctx_, vouchers_.persist_orders({same_id}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted, 0u);
  EXPECT_EQ(r->replayed, 0u);
  EXPECT_EQ(r->collisions, std::vector<int64_t>{same_id.id});
  // The stored order itself, sent again, is still a replay.
  auto again = run_co(ctx_, vouchers_.persist_orders({first}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->replayed, 1u);
  EXPECT_TRUE(again->collisions.empty());
  EXPECT_EQ(stock(voucher), 9);
  EXPECT_EQ(db_orders(voucher), 1);
}

// The writer killed after its COMMIT and before its XACK: the restarted writer (same consumer
// name, reading its own pending entries back) finds every row stored and counts only replays.
TEST_F(FlashSaleTest, AWriterKilledBetweenCommitAndAckReplaysEverythingOnce) {
  constexpr int kOrders = 7;
  int64_t voucher = make_voucher(20);
  int shard = sale_.shard_of(voucher);
  std::string stream = sale_.stream_key(shard);
  ASSERT_TRUE(run_co(ctx_, redis::xgroup_create(*conns_[0], stream, "order-writers", "0")));
  // Entries earlier tests left unread in this shard are moved out of the way first.
  auto left = run_co(ctx_, redis::xreadgroup(*conns_[0], "order-writers", "drain", stream, ">",
                                             100000, std::nullopt));
  ASSERT_TRUE(left);
  std::vector<std::string> left_ids;
  for (const auto& e : *left) left_ids.push_back(e.id);
  if (!left_ids.empty()) {
    ASSERT_TRUE(run_co(ctx_, redis::xack(*conns_[0], stream, "order-writers", left_ids)));
  }
  std::vector<db::OrderRow> rows;
  for (int i = 0; i < kOrders; ++i) {
    rows.push_back({voucher * 1000 + i, 800 + i, voucher, now_ms()});
    enqueue(rows.back().id, rows.back().user_id, voucher);
  }
  // What the killed writer did: read the entries (now pending under its name) and commit.
  auto read = run_co(ctx_, redis::xreadgroup(*conns_[0], "order-writers", consumer(), stream, ">",
                                             100, std::nullopt));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), static_cast<size_t>(kOrders));
  auto committed = run_co(ctx_, vouchers_.persist_orders(rows));
  ASSERT_TRUE(committed);
  ASSERT_EQ(committed->inserted, static_cast<size_t>(kOrders));
  ASSERT_EQ(stock(voucher), 20 - kOrders);

  WriterOptions o;
  o.claim_idle = std::chrono::hours(1);  // only reading its own pending entries can recover
  start_writer(o);
  ASSERT_TRUE(wait_until([&] { return writer_->stats().replayed == kOrders; }));
  EXPECT_EQ(writer_->stats().persisted, 0u);
  EXPECT_EQ(writer_->stats().claimed, 0u);
  EXPECT_EQ(writer_->stats().collisions, 0u);
  EXPECT_EQ(stock(voucher), 20 - kOrders);
  EXPECT_EQ(db_orders(voucher), kOrders);
  auto pending = run_co(ctx_, conns_[0]->connection().exec(redis::Command::make(
                                  "XPENDING", stream, "order-writers", "-", "+", 100, consumer())));
  ASSERT_TRUE(pending && pending->is_array());
  EXPECT_EQ(pending->elements.size(), 0u);
  for (const auto& r : rows) {
    auto q = run_co(ctx_, sale_.queued(*nodes_[0], r.id));
    ASSERT_TRUE(q);
    EXPECT_FALSE(*q) << r.id;
  }
}

// A lock wait timeout is not a refusal of the data: the writer holds the order and retries until
// it is durable, with max_failures = 1 (a refusal would dead-letter it at once).
TEST_F(FlashSaleTest, ALockWaitTimeoutIsRetriedUntilDurableNeverDeadLettered) {
  int64_t voucher = make_voucher(10);
  db::Options impatient = test::stores().db;
  impatient.pool_size = 1;
  db::Pool pool(impatient);
  ASSERT_TRUE(run_co(ctx_, pool.run([](db::Connection& c) -> Result<void> {
    auto r = c.execute("SET SESSION innodb_lock_wait_timeout = 1");
    if (!r) return r.error();
    return {};
  })));
  db::VoucherRepository repo(pool);
  db::Connection blocker(test::stores().db);
  ASSERT_TRUE(blocker.begin());
  db::Params p;
  p.emplace_back(voucher);
  ASSERT_TRUE(
      blocker.query("SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE", p));
  enqueue(voucher * 1000 + 1, 900, voucher);
  WriterOptions o;
  o.max_failures = 1;
  start_writer(o, &repo);
  // Two lock waits have timed out (each 1 s) and been retried.
  ASSERT_TRUE(wait_until([&] { return writer_->stats().retries >= 2; }));
  EXPECT_EQ(writer_->stats().dead_letters, 0u);
  EXPECT_EQ(db_orders(voucher), 0);
  ASSERT_TRUE(blocker.rollback());
  ASSERT_TRUE(wait_for_orders(voucher, 1));
  EXPECT_EQ(writer_->stats().dead_letters, 0u);
  EXPECT_EQ(stock(voucher), 9);
  stop_writer();
  pool.stop();
}

// Acknowledged entries older than the retention are trimmed; a pending one (read by a consumer
// that never acknowledged it) and everything after it stay.
TEST_F(FlashSaleTest, AcknowledgedEntriesAreTrimmedPendingOnesNever) {
  int64_t voucher = make_voucher(10);
  std::string stream = sale_.stream_key(sale_.shard_of(voucher));
  std::vector<std::string> acked;
  for (int i = 0; i < 3; ++i) acked.push_back(enqueue(voucher * 1000 + i, 950 + i, voucher));
  start_writer();
  ASSERT_TRUE(wait_for_orders(voucher, 3));
  stop_writer();
  std::string held = enqueue(voucher * 1000 + 3, 953, voucher);
  auto ghost = run_co(
      ctx_, redis::xreadgroup(*conns_[0], "order-writers", "ghost", stream, ">", 10, std::nullopt));
  ASSERT_TRUE(ghost && ghost->size() == 1);
  std::string after = enqueue(voucher * 1000 + 4, 954, voucher);
  WriterOptions o;
  o.retention = 0ms;
  o.trim_every = 20ms;
  o.claim_idle = std::chrono::hours(1);
  start_writer(o);
  ASSERT_TRUE(wait_for_orders(voucher, 4));
  auto present = [&](const std::string& id) {
    auto r =
        run_co(ctx_, conns_[0]->connection().exec(redis::Command::make("XRANGE", stream, id, id)));
    return r && r->is_array() && !r->elements.empty();
  };
  ASSERT_TRUE(wait_until([&] { return !present(acked.back()); })) << "nothing was trimmed";
  for (const auto& id : acked) EXPECT_FALSE(present(id)) << id;
  EXPECT_TRUE(present(held));
  EXPECT_TRUE(present(after));
  EXPECT_GE(writer_->stats().trimmed, 3u);
  // Leave the held entry to nobody: acknowledge it for the ghost.
  ASSERT_TRUE(run_co(ctx_, redis::xack(*conns_[0], stream, "order-writers", {held})));
}

// The summary the dashboard polls: only active vouchers (window open now, or orders queued or
// dead), the newest first up to the limit, with stock left and buyers accepted from Redis and
// persisted orders from MariaDB.
TEST_F(FlashSaleTest, ActiveSummaryCountsStockAcceptedQueuedAndPersisted) {
  int64_t ended = make_voucher(10, now_ms() - 7'200'000, now_ms() - 3'600'000);
  int64_t open = make_voucher(10);
  int64_t newest = make_voucher(5);
  for (int i = 0; i < 3; ++i) {
    auto r = run_co(ctx_, sale_.buy(*nodes_[0], open, 200000 + i, open * 1'000'000 + i));
    ASSERT_TRUE(r && *r == SaleOutcome::kAccepted);
  }
  OrderQueues queues(sale_);
  OrderQueues::Selection all{.only = {ended, open, newest}, .active_at_ms = now_ms()};
  auto sum = run_co(ctx_, queues.summary(*conns_[0], vouchers_, all));
  ASSERT_TRUE(sum) << sum.error().message();
  ASSERT_EQ(sum->vouchers.size(), 2u);  // the ended voucher has nothing queued: not active
  const auto& o = sum->vouchers[0];
  EXPECT_EQ(o.voucher_id, open);
  EXPECT_EQ(o.shard, sale_.shard_of(open));
  EXPECT_EQ(o.stock, 7);
  EXPECT_EQ(o.accepted, 3);
  EXPECT_EQ(o.queued, 3);
  EXPECT_EQ(o.persisted, 0);
  EXPECT_EQ(sum->vouchers[1].voucher_id, newest);
  EXPECT_EQ(sum->vouchers[1].stock, 5);

  all.limit = 1;
  auto newest_only = run_co(ctx_, queues.summary(*conns_[0], vouchers_, all));
  ASSERT_TRUE(newest_only);
  ASSERT_EQ(newest_only->vouchers.size(), 1u);
  EXPECT_EQ(newest_only->vouchers[0].voucher_id, newest);

  start_writer();
  ASSERT_TRUE(wait_for_orders(open, 3));
  all.limit = SIZE_MAX;
  ASSERT_TRUE(wait_until([&] {
    auto s = run_co(ctx_, queues.summary(*conns_[0], vouchers_, all));
    return s && !s->vouchers.empty() && s->vouchers[0].queued == 0;
  }));
  sum = run_co(ctx_, queues.summary(*conns_[0], vouchers_, all));
  ASSERT_TRUE(sum && !sum->vouchers.empty());
  EXPECT_EQ(sum->vouchers[0].accepted, 3);
  EXPECT_EQ(sum->vouchers[0].persisted, 3);
  EXPECT_EQ(sum->vouchers[0].stock, 7);
}

// However often it is asked, SaleFigures computes at most once per max_age (by the injected
// clock) and hands the same figures to every caller meanwhile; older ones are still answered at
// once while new ones are computed in the background.
TEST_F(FlashSaleTest, SaleFiguresAreComputedAtMostOncePerMaxAge) {
  int64_t voucher = make_voucher(10);
  OrderQueues queues(sale_);
  ManualClock clock(now_ms());
  SaleFigures figures(queues, vouchers_, clock, {.max_age = 1000ms, .limit = 20});
  auto accepted = [&](const SaleFigures::Figures& f) {
    for (const auto& v : f.summary.vouchers) {
      if (v.voucher_id == voucher) return v.accepted;
    }
    return int64_t{-1};
  };
  auto first = run_co(ctx_, figures.current(*conns_[0]));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(accepted(**first), 0);
  ASSERT_TRUE(run_co(ctx_, sale_.buy(*nodes_[0], voucher, 300000, voucher * 1'000'000)));
  for (int i = 0; i < 5; ++i) {
    auto again = run_co(ctx_, figures.current(*conns_[0]));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->get(), first->get());
  }
  clock.advance(999ms);
  EXPECT_EQ(run_co(ctx_, figures.current(*conns_[0]))->get(), first->get());
  EXPECT_EQ(figures.computed(), 1u);

  clock.advance(1ms);
  auto stale = run_co(ctx_, figures.current(*conns_[0]));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->get(), first->get());  // at once, while the new figures are computed
  EXPECT_EQ(run_co(ctx_, figures.current(*conns_[0]))->get(), first->get());
  ASSERT_TRUE(wait_until([&] { return figures.computed() == 2; }));
  auto later = run_co(ctx_, figures.current(*conns_[0]));
  ASSERT_TRUE(later);
  EXPECT_EQ((*later)->at_ms, clock.now_ms());
  EXPECT_EQ(accepted(**later), 1);
  test::drive_for(ctx_, 50ms);
  EXPECT_EQ(figures.computed(), 2u);  // the second call above started no second computation
}

// A scrape (Wait::kWhenStale) gets figures computed for it once the last are max_age old,
// and sees them as gauges labelled by voucher.
TEST_F(FlashSaleTest, AScrapeWaitsForNewFiguresAndSeesThemAsGauges) {
  int64_t voucher = make_voucher(10);
  OrderQueues queues(sale_);
  ManualClock clock(now_ms());
  SaleFigures figures(queues, vouchers_, clock, {.max_age = 1000ms, .limit = 20});
  auto scrape = [&] {
    auto f = run_co(ctx_, figures.current(*conns_[0], SaleFigures::Wait::kWhenStale));
    EXPECT_TRUE(f);
    std::string out;
    if (f) SaleFigures::render_metrics(**f, clock.now_ms() + 250, out);
    return out;
  };
  std::string label = "{voucher=\"" + std::to_string(voucher) + "\"} ";
  EXPECT_NE(scrape().find("\nsurge_sale_voucher_accepted" + label + "0\n"), std::string::npos);
  ASSERT_TRUE(run_co(ctx_, sale_.buy(*nodes_[0], voucher, 300001, voucher * 1'000'000)));
  clock.advance(999ms);
  EXPECT_NE(scrape().find("\nsurge_sale_voucher_accepted" + label + "0\n"), std::string::npos);
  clock.advance(1ms);
  std::string fresh = scrape();  // computed for this call, not in the background
  EXPECT_EQ(figures.computed(), 2u);
  EXPECT_NE(fresh.find("\nsurge_sale_voucher_accepted" + label + "1\n"), std::string::npos)
      << fresh;
  EXPECT_NE(fresh.find("\nsurge_sale_voucher_stock" + label + "9\n"), std::string::npos) << fresh;
  EXPECT_NE(fresh.find("# TYPE surge_sale_voucher_stock gauge\n"), std::string::npos);
  EXPECT_NE(fresh.find("\nsurge_sale_figures_age_seconds 0.25\n"), std::string::npos) << fresh;
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
