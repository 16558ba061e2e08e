// Typed helpers, scripts and pub/sub against a real redis-server.
#include <algorithm>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "redis/commands.h"
#include "redis/heartbeats.h"
#include "redis/pipeline.h"
#include "redis/script.h"
#include "support/drive.h"
#include "support/processes.h"
#include "support/stores.h"

namespace surge::redis {
namespace {

using namespace std::chrono_literals;

class RedisCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_ = NodeClient::create(ctx_.get_executor(), test::stores().redis);
    conn_->start();
    ASSERT_TRUE(run(conn_->wait_ready(3s)));
    prefix_ = "test:cmd:" + std::to_string(::getpid()) + ":" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
  }
  void TearDown() override {
    conn_->stop();
    ctx_.run_for(100ms);
  }

  template <class T>
  T run(asio::awaitable<T> a) {
    return test::run_co(ctx_, std::move(a));
  }
  std::string key(const std::string& k) const { return prefix_ + k; }

  asio::io_context ctx_;
  std::shared_ptr<NodeClient> conn_;
  std::string prefix_;
};

TEST_F(RedisCommands, StringsAndKeys) {
  Client& c = *conn_;
  EXPECT_EQ(*run(get(c, key("s"))), std::nullopt);
  EXPECT_TRUE(*run(set(c, key("s"), "v1")));
  EXPECT_EQ(*run(get(c, key("s"))), "v1");
  EXPECT_FALSE(*run(set(c, key("s"), "v2", Millis(0), true)));  // NX on an existing key
  EXPECT_TRUE(*run(set(c, key("t"), "x", Millis(5000), true)));
  auto ttl = run(pttl(c, key("t")));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 4000);
  EXPECT_LE(*ttl, 5000);
  EXPECT_EQ(*run(incr_by(c, key("n"), 5)), 5);
  EXPECT_EQ(*run(incr_by(c, key("n"), -2)), 3);
  auto not_a_number = run(incr_by(c, key("s"), 1));
  ASSERT_FALSE(not_a_number);
  EXPECT_EQ(not_a_number.error(), Errc::kServerError);
  EXPECT_EQ(*run(del(c, {key("s"), key("t"), key("n"), key("absent")})), 3);
}

// Every published name is live with its latest value until its value expires (deleted here, as
// expiry would), and then leaves the set of names too.
TEST_F(RedisCommands, HeartbeatsListLiveNamesAndForgetExpiredOnes) {
  Client& c = *conn_;
  Heartbeats hb(key("hb"), 5000ms);
  ASSERT_TRUE(run(hb.publish(c, "b", "b1")));
  ASSERT_TRUE(run(hb.publish(c, "a", "a1")));
  ASSERT_TRUE(run(hb.publish(c, "b", "b2")));
  using Live = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(*run(hb.live(c)), (Live{{"a", "a1"}, {"b", "b2"}}));
  auto ttl = run(pttl(c, hb.value_key("a")));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 5000);
  ASSERT_TRUE(run(del(c, {hb.value_key("a")})));
  EXPECT_EQ(*run(hb.live(c)), (Live{{"b", "b2"}}));
  EXPECT_EQ(*run(smembers(c, hb.names_key())), std::vector<std::string>{"b"});
  ASSERT_TRUE(run(del(c, {hb.value_key("b"), hb.names_key()})));
  EXPECT_TRUE(run(hb.live(c))->empty());
}

TEST_F(RedisCommands, HashesSetsSortedSets) {
  Client& c = *conn_;
  EXPECT_EQ(*run(hset(c, key("h"), {{"id", "1"}, {"nickName", "小明"}})), 2);
  auto h = run(hgetall(c, key("h")));
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (FieldValues{{"id", "1"}, {"nickName", "小明"}}));
  EXPECT_EQ(*run(sadd(c, key("a"), {"1", "2", "3"})), 3);
  EXPECT_EQ(*run(sadd(c, key("b"), {"2", "3", "4"})), 3);
  EXPECT_TRUE(*run(sismember(c, key("a"), "1")));
  EXPECT_FALSE(*run(sismember(c, key("a"), "4")));
  EXPECT_EQ(*run(srem(c, key("a"), {"1"})), 1);
  EXPECT_EQ(*run(zadd(c, key("z"), 100, "a")), 1);
  EXPECT_EQ(*run(zadd(c, key("z"), 200, "b")), 1);
  EXPECT_EQ(*run(zadd(c, key("z"), 200, "c")), 1);
  EXPECT_EQ(*run(zscore(c, key("z"), "b")), 200.0);
  EXPECT_EQ(*run(zscore(c, key("z"), "nobody")), std::nullopt);
  EXPECT_EQ(*run(zrange(c, key("z"), 0, 0)), std::vector<std::string>{"a"});
  EXPECT_EQ(*run(zrem(c, key("z"), "a")), 1);
}

// The typed requests over a Client (here a view of the same connection): a tuple of replies,
// single requests, scored members, BITFIELD's integers, an error reply, and SCAN.
TEST_F(RedisCommands, TypedRequestsOverAClient) {
  NodeClient client(*conn_);
  auto writes = batch(Request::keyed(1, "ZADD", key("z"), 100, "a"),
                      Request::keyed(1, "ZADD", key("z"), 200, "b"),
                      Request::keyed(1, "SETBIT", key("bits"), 1, 1),
                      Request::keyed(1, "SETBIT", key("bits"), 2, 1));
  auto added = run(exec_as<int64_t, int64_t, int64_t, Done>(client, std::move(writes)));
  ASSERT_TRUE(added);
  EXPECT_EQ(std::get<0>(*added), 1);
  EXPECT_EQ(std::get<2>(*added), 0);  // SETBIT answers the bit's old value
  auto page = run(exec_one<ScoredMembers>(
      client, Request::keyed(1, "ZREVRANGEBYSCORE", key("z"), "+inf", 0, "WITHSCORES")));
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (ScoredMembers{{"b", 200.0}, {"a", 100.0}}));
  // Bits 1 and 2 set: the first four read as 0b0110.
  auto bits = run(exec_one<std::vector<int64_t>>(
      client, Request::keyed(1, "BITFIELD", key("bits"), "GET", "u4", 0)));
  ASSERT_TRUE(bits);
  EXPECT_EQ(*bits, std::vector<int64_t>{6});
  auto wrong = run(exec_one<ScoredMembers>(client, Request::keyed(1, "GET", key("z"))));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), Errc::kServerError);
  auto keys = run(client.scan(prefix_ + "*"));
  ASSERT_TRUE(keys);
  std::sort(keys->begin(), keys->end());
  EXPECT_EQ(*keys, (std::vector<std::string>{key("bits"), key("z")}));
  EXPECT_EQ(*run(del(*conn_, {key("z"), key("bits")})), 2);
}

TEST_F(RedisCommands, Geo) {
  Client& c = *conn_;
  std::vector<GeoMember> shops = {
      {"1", 120.149993, 30.334229}, {"2", 120.15, 30.34}, {"3", 120.40, 30.10}};
  EXPECT_EQ(*run(geoadd(c, key("geo"), shops)), 3);
  auto near = run(geosearch(c, key("geo"), 120.149993, 30.334229, 5000, 10));
  ASSERT_TRUE(near);
  ASSERT_EQ(near->size(), 2u);  // shop 3 is ~35 km away
  EXPECT_EQ((*near)[0].member, "1");
  EXPECT_LT((*near)[0].distance_m, 1.0);
  EXPECT_EQ((*near)[1].member, "2");
  EXPECT_GT((*near)[1].distance_m, 500.0);
  EXPECT_LT((*near)[1].distance_m, 800.0);
}

TEST_F(RedisCommands, StreamsWithConsumerGroups) {
  Client& c = *conn_;
  std::string s = key("orders");
  ASSERT_TRUE(run(xgroup_create(c, s, "g1")));
  ASSERT_TRUE(run(xgroup_create(c, s, "g1")));  // BUSYGROUP is success
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = run(xadd(c, s, {{"userId", std::to_string(i)}, {"voucherId", "7"}}));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  auto got = run(xreadgroup(c, "g1", "c1", s, ">", 3, std::nullopt));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].id, ids[0]);
  EXPECT_EQ((*got)[0].fields, (FieldValues{{"userId", "0"}, {"voucherId", "7"}}));
  auto pending = run(xpending(c, s, "g1", 10));
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].consumer, "c1");
  EXPECT_EQ((*pending)[0].deliveries, 1);
  EXPECT_EQ(*run(xack(c, s, "g1", {ids[0], ids[1]})), 2);
  // Entry 2 is still pending for c1; another consumer claims it once idle long enough.
  auto claimed = run(xautoclaim(c, s, "g1", "c2", Millis(0), "0", 10));
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->second.size(), 1u);
  EXPECT_EQ(claimed->second[0].id, ids[2]);
  auto empty = run(xreadgroup(c, "g1", "c1", s, ">", 10, Millis(50)));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 2u);  // entries 3 and 4 were never delivered
  auto none = run(xreadgroup(c, "g1", "c1", s, ">", 10, Millis(50)));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());  // BLOCK timed out: nil, not an error
}

TEST_F(RedisCommands, ScriptsRecoverFromNoscript) {
  Client& c = *conn_;
  Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(script.sha().size(), 40u);
  auto flush = Request::keyed(Request::kNoKey, "SCRIPT", "FLUSH");
  ASSERT_TRUE(run(c.exec(flush)));
  auto first = run(c.run(script, {key("k")}, {"2"}));  // server never saw it: NOSCRIPT → EVAL
  ASSERT_TRUE(first);
  EXPECT_EQ(first->as_integer(), 2);
  // Now loaded: a bare EVALSHA (no EVAL to fall back on) runs it.
  auto second = run(c.exec(Request::keyed(3, "EVALSHA", script.sha(), 1, key("k"), 3)));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->as_integer(), 5);
  ASSERT_TRUE(run(c.exec(flush)));
  auto third = run(c.run(script, {key("k")}, {"1"}));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->as_integer(), 6);
  Script broken("return redis.call('NOPE')");
  auto err = run(c.run(broken, {}, {}));
  ASSERT_TRUE(err);  // transport fine; the script's failure is an error reply
  EXPECT_TRUE(err->is_error());
}

TEST_F(RedisCommands, SubscriberGetsMessagesAndResubscribesAfterReconnect) {
  test::RedisServer server;
  Options o;
  o.port = server.port();
  auto sub = Connection::create(ctx_.get_executor(), o);
  auto pub = NodeClient::create(ctx_.get_executor(), o);
  std::vector<std::string> got;
  int ups = 0, downs = 0;
  sub->set_push_handler([&](Reply r) { got.push_back(r.elements.back().str); });
  sub->set_state_handler([&](bool up) { (up ? ups : downs)++; });
  sub->start();
  pub->start();
  ASSERT_TRUE(run(sub->wait_ready(3s)));
  ASSERT_TRUE(run(pub->wait_ready(3s)));
  ASSERT_TRUE(run(sub->subscribe("news")));
  EXPECT_EQ(*run(publish(*pub, "news", "one")), 1);
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 300 && got.size() < n; ++i) ctx_.run_for(10ms);
  };
  wait_for(1);
  ASSERT_EQ(got, std::vector<std::string>{"one"});

  server.kill9();
  ctx_.run_for(100ms);
  server.start();
  ASSERT_TRUE(server.wait_ready(5s));
  ASSERT_TRUE(run(sub->wait_ready(5s)));
  ASSERT_TRUE(run(pub->wait_ready(5s)));
  EXPECT_EQ(downs, 1);
  EXPECT_EQ(ups, 2);
  // Resubscribed during the reconnect handshake, before reporting ready.
  EXPECT_EQ(*run(publish(*pub, "news", "two")), 1);
  wait_for(2);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  sub->stop();
  pub->stop();
}

}  // namespace
}  // namespace surge::redis
