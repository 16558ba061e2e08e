// The cluster client against a real 3-master, 3-replica Redis Cluster that this suite starts
// itself (scripts/services --redis-cluster 3): routing by slot, batches across every master in
// the caller's order, scripts per node, a slot migrated under load, and fake nodes that loop
// redirections or answer garbage.
#include "redis/cluster.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "redis/connection.h"
#include "redis/slot.h"
#include "support/cluster.h"
#include "support/drive.h"
#include "support/fake_redis.h"
#include "support/processes.h"

namespace surge::redis {
namespace {

using test::drive;
using test::FakeRedis;
using test::Peer;
using test::run_co;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new test::ClusterEnvironment);

Options node_options() {
  Options o;
  o.connect_timeout = 1000ms;
  o.request_timeout = 5000ms;
  o.reconnect_min = 10ms;
  o.reconnect_max = 100ms;
  return o;
}

class ClusterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test::cluster_stores(), nullptr) << "the cluster did not start";
    ClusterOptions o;
    o.seeds = test::cluster_stores()->seeds;
    o.node = node_options();
    // No timer-driven refresh in the middle of a test: every map change below is caused by the
    // test, so the counts of MOVED and ASK it expects are exact.
    o.refresh_interval = 1h;
    client_ = ClusterClient::create(ctx_.get_executor(), o);
    client_->start();
    ASSERT_TRUE(run_co(ctx_, client_->wait_ready(20s))) << client_->last_error();
    ASSERT_EQ(client_->slot_map().masters().size(), 3u);
    for (const auto& m : client_->slot_map().masters()) {
      auto r = run_co(ctx_, direct(m)->exec(Command::make("FLUSHALL")));
      ASSERT_TRUE(r && !r->is_error());
    }
  }
  void TearDown() override {
    client_->stop();
    for (auto& c : direct_) c->stop();
    ctx_.poll();
  }

  // A plain connection to one node, for checking what the cluster client did.
  std::shared_ptr<Connection> direct(const Endpoint& at) {
    Options o = node_options();
    o.host = at.host;
    o.port = at.port;
    auto c = Connection::create(ctx_.get_executor(), o);
    c->start();
    EXPECT_TRUE(run_co(ctx_, c->wait_ready(5s)));
    direct_.push_back(c);
    return c;
  }
  Reply direct_exec(const Endpoint& at, Command cmd) {
    auto r = run_co(ctx_, direct(at)->exec(std::move(cmd)));
    EXPECT_TRUE(r);
    return r ? *r : Reply{};
  }

  asio::io_context ctx_;
  std::shared_ptr<ClusterClient> client_;
  std::vector<std::shared_ptr<Connection>> direct_;
};

asio::awaitable<int> set_each(std::shared_ptr<ClusterClient> c, std::vector<std::string> keys) {
  int ok = 0;
  for (const auto& k : keys) {
    auto r = co_await c->exec(Request::keyed(1, "SET", k, "v:" + k));
    if (r && r->as_string() == "OK") ++ok;
  }
  co_return ok;
}

// A call whose caller is cancelled (an HTTP client that went away) while a node has not
// answered ends at once with kCancelled; the late answer is read and dropped, and the node's
// connection stays in step for the next caller.
TEST_F(ClusterClientTest, ACancelledCallEndsAtOnceAndTheConnectionStaysInStep) {
  const std::string list = "cancel:{c}list";
  asio::cancellation_signal cancel;
  std::optional<Result<std::vector<Reply>>> got;
  // Both nodes' connections up first, so the call below goes straight to waiting for answers.
  ASSERT_TRUE(run_co(ctx_, client_->exec_all(batch(Request::keyed(1, "GET", list),
                                                   Request::keyed(1, "GET", "cancel:other")))));
  // BLPOP with no timeout holds its answer until the list gets an element.
  asio::co_spawn(ctx_,
                 client_->exec_all(batch(Request::keyed(1, "BLPOP", list, 0),
                                         Request::keyed(1, "SET", "cancel:other", "v"))),
                 asio::bind_cancellation_slot(
                     cancel.slot(), [&](std::exception_ptr, Result<std::vector<Reply>> r) {
                       got = std::move(r);
                     }));
  ctx_.poll();
  ASSERT_FALSE(got) << "BLPOP answered without an element";
  cancel.emit(asio::cancellation_type::terminal);
  drive(ctx_, [&] { return got.has_value(); });
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error(), make_error_code(Errc::kCancelled));
  // Release the BLPOP (its answer comes to the client, which drops it), then use the same node.
  auto owner = *client_->slot_map().owner(key_slot(list));
  EXPECT_EQ(direct_exec(owner, Command::make("LPUSH", list, "x")).as_integer(), 1);
  auto set = run_co(ctx_, client_->exec(Request::keyed(1, "SET", "cancel:{c}after", "fresh")));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->as_string(), "OK");
  auto get = run_co(ctx_, client_->exec(Request::keyed(1, "GET", "cancel:{c}after")));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->as_string(), "fresh");
}

TEST_F(ClusterClientTest, RoutesEveryKeyToTheMasterOfItsSlot) {
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("route:" + std::to_string(i));
  EXPECT_EQ(run_co(ctx_, set_each(client_, keys)), 300);
  EXPECT_EQ(client_->cluster_stats().moved, 0u);
  EXPECT_EQ(client_->cluster_stats().asked, 0u);

  // Each key sits on the master that owns its slot, and every master got some.
  std::set<std::string> owners;
  for (const auto& k : keys) {
    const Endpoint owner = *client_->slot_map().owner(key_slot(k));
    owners.insert(owner.to_string());
    EXPECT_EQ(direct_exec(owner, Command::make("GET", k)).as_string(), "v:" + k);
  }
  EXPECT_EQ(owners.size(), 3u);
  int64_t total = 0;
  for (const auto& m : client_->slot_map().masters()) {
    auto n = direct_exec(m, Command::make("DBSIZE")).as_integer();
    ASSERT_TRUE(n);
    EXPECT_GT(*n, 0);
    total += *n;
  }
  EXPECT_EQ(total, 300);

  // Hash-tagged keys share a node: both are read back through the client in one batch.
  std::vector<Request> tagged;
  tagged.push_back(Request::keyed(1, "SET", "{user1000}.following", "a"));
  tagged.push_back(Request::keyed(1, "SET", "{user1000}.followers", "b"));
  tagged.push_back(Request::keyed(1, "MGET", "{user1000}.following", "{user1000}.followers"));
  auto r = run_co(ctx_, client_->exec_all(std::move(tagged)));
  ASSERT_TRUE(r);
  ASSERT_EQ((*r)[2].elements.size(), 2u) << to_debug_string((*r)[2]);
  EXPECT_EQ((*r)[2].elements[0].as_string(), "a");
  EXPECT_EQ((*r)[2].elements[1].as_string(), "b");
}

TEST_F(ClusterClientTest, PipelineAcrossAllMastersKeepsTheCallersOrder) {
  std::vector<Request> batch;
  std::set<std::string> owners;
  for (int i = 0; i < 300; ++i) {
    std::string k = "pipe:" + std::to_string(i);
    std::string counter = "ctr:" + std::to_string(i);
    owners.insert(client_->slot_map().owner(key_slot(k))->to_string());
    batch.push_back(Request::keyed(1, "SET", k, i));
    batch.push_back(Request::keyed(1, "INCRBY", counter, i + 1));
    batch.push_back(Request::keyed(1, "GET", k));
  }
  batch.push_back(Request{{"PING"}});  // a keyless command goes to some master
  ASSERT_EQ(owners.size(), 3u) << "the batch spans every master";

  auto r = run_co(ctx_, client_->exec_all(std::move(batch)));
  ASSERT_TRUE(r) << client_->last_error();
  ASSERT_EQ(r->size(), 901u);
  int in_order = 0;
  for (int i = 0; i < 300; ++i) {
    const auto& set = (*r)[3 * i];
    const auto& incr = (*r)[3 * i + 1];
    const auto& get = (*r)[3 * i + 2];
    if (set.as_string() == "OK" && incr.as_integer() == i + 1 &&
        get.as_string() == std::to_string(i)) {
      ++in_order;
    }
  }
  EXPECT_EQ(in_order, 300);
  EXPECT_EQ((*r)[900].as_string(), "PONG");
  EXPECT_EQ(client_->cluster_stats().moved, 0u);
}

asio::awaitable<void> incr_one(std::shared_ptr<ClusterClient> c, std::string key, int* ok,
                               int* finished) {
  auto r = co_await c->exec(Request::keyed(1, "INCR", key));
  if (r && r->as_integer() == 1) ++*ok;
  ++*finished;
}

TEST_F(ClusterClientTest, ConcurrentCallersShareOnePipelinedConnectionPerNode) {
  const Stats before = client_->stats();
  int ok = 0, finished = 0;
  for (int i = 0; i < 3000; ++i) {
    asio::co_spawn(ctx_, incr_one(client_, "conc:" + std::to_string(i), &ok, &finished),
                   asio::detached);
  }
  drive(
      ctx_, [&] { return finished == 3000; }, 30s);
  EXPECT_EQ(ok, 3000);
  const Stats after = client_->stats();
  const uint64_t requests = after.requests - before.requests;
  const uint64_t writes = after.writes - before.writes;
  // At least the 3000 INCRs (a slot-map refresh may add its CLUSTER SLOTS).
  EXPECT_GE(requests, 3000u);
  // Callers that arrive while a node's write is in flight leave together in its next write.
  EXPECT_LE(writes * 10, requests) << writes << " writes";
}

asio::awaitable<int> run_script_on(std::shared_ptr<ClusterClient> c, const Script* script,
                                   std::vector<std::string> keys) {
  int ones = 0;
  for (const auto& k : keys) {
    std::vector<std::string> script_keys{k};
    auto r = co_await c->run(*script, std::move(script_keys), std::vector<std::string>{});
    if (r && r->as_integer() == 1) ++ones;
  }
  co_return ones;
}

TEST_F(ClusterClientTest, ScriptsAreLoadedOnEachNodeThatRunsThem) {
  for (const auto& m : client_->slot_map().masters()) {
    direct_exec(m, Command::make("SCRIPT", "FLUSH"));
  }
  const Script incr("return redis.call('INCR', KEYS[1])");
  std::vector<std::string> keys;
  std::set<std::string> owners;
  for (int i = 0; i < 30; ++i) {
    keys.push_back("script:" + std::to_string(i));
    owners.insert(client_->slot_map().owner(key_slot(keys.back()))->to_string());
  }
  ASSERT_EQ(owners.size(), 3u);
  // One NOSCRIPT per master: after its EVAL, each master runs the SHA.
  EXPECT_EQ(run_co(ctx_, run_script_on(client_, &incr, keys)), 30);
  EXPECT_EQ(client_->cluster_stats().noscript, 3u);

  // A master that lost its scripts (restart, SCRIPT FLUSH) costs one more NOSCRIPT, only there.
  direct_exec(client_->slot_map().masters().front(), Command::make("SCRIPT", "FLUSH"));
  std::vector<std::string> again;
  for (const auto& k : keys) again.push_back(k + ":again");
  EXPECT_EQ(run_co(ctx_, run_script_on(client_, &incr, again)), 30);
  EXPECT_EQ(client_->cluster_stats().noscript, 4u);
}

// Polls (event-based, bounded by run_co's limit) until `done` holds.
template <class Pred>
asio::awaitable<void> until(Pred done) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!done()) {
    t.expires_after(2ms);
    co_await t.async_wait(kTuple);
  }
}

TEST_F(ClusterClientTest, PeriodicRefreshLearnsASlotThatMovedWithoutAnyRequest) {
  ClusterOptions o;
  o.seeds = test::cluster_stores()->seeds;
  o.node = node_options();
  o.refresh_interval = 50ms;
  auto watcher = ClusterClient::create(ctx_.get_executor(), o);
  watcher->start();
  ASSERT_TRUE(run_co(ctx_, watcher->wait_ready(20s)));

  // An empty slot handed to another master by configuration alone.
  const uint16_t slot = key_slot("{periodic}");
  const Endpoint from = *watcher->slot_map().owner(slot);
  Endpoint to;
  for (const auto& e : watcher->slot_map().masters()) {
    if (!(e == from)) to = e;
  }
  std::string to_id = direct_exec(to, Command::make("CLUSTER", "MYID")).str;
  for (const Endpoint& e : {to, from}) {
    auto r = direct_exec(e, Command::make("CLUSTER", "SETSLOT", slot, "NODE", to_id));
    ASSERT_FALSE(r.is_error()) << r.str;
  }
  for (const auto& e : watcher->slot_map().masters()) {
    direct_exec(e, Command::make("CLUSTER", "SETSLOT", slot, "NODE", to_id));
  }
  const auto* map = &watcher->slot_map();
  run_co(ctx_, until([&] { return *map->owner(slot) == to; }), 20s);
  EXPECT_EQ(*watcher->slot_map().owner(slot), to);
  EXPECT_EQ(watcher->cluster_stats().moved, 0u);  // learnt without being redirected
  watcher->stop();
}

// GETs `key` until it reads `want`, counting the failed tries.
asio::awaitable<int> get_until_served(std::shared_ptr<ClusterClient> c, std::string key,
                                      std::string want, int* failures) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    auto r = co_await c->exec(Request::keyed(1, "GET", key));
    if (r && r->as_string() == want) co_return 1;
    ++*failures;
    t.expires_after(20ms);
    co_await t.async_wait(kTuple);
  }
}

TEST_F(ClusterClientTest, LostNodeConnectionTriggersARefreshAndTheNodeServesAgain) {
  const Endpoint m = client_->slot_map().masters().front();
  std::string key;
  for (int i = 0; key.empty(); ++i) {
    std::string k = "lost:" + std::to_string(i);
    if (*client_->slot_map().owner(key_slot(k)) == m) key = k;
  }
  auto first = run_co(ctx_, client_->exec(Request::keyed(1, "SET", key, "1")));
  ASSERT_TRUE(first && first->as_string() == "OK");
  const uint64_t before = client_->cluster_stats().refreshes;

  // The node drops every client but the one asking (the timer refresh is an hour away).
  auto killed = direct_exec(m, Command::make("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"));
  ASSERT_GE(killed.as_integer().value_or(0), 1);
  const auto* client = client_.get();
  run_co(ctx_, until([&] { return client->cluster_stats().refreshes > before; }), 20s);
  EXPECT_GT(client_->cluster_stats().refreshes, before);

  // The node's connection comes back by itself (calls in between may fail fast).
  int failures = 0;
  EXPECT_EQ(run_co(ctx_, get_until_served(client_, key, "1", &failures), 20s), 1);
}

// INCR load on keys of one slot: each pass is one batch over all keys; every reply is checked
// against the count this side expects.
struct Load {
  std::vector<std::string> keys;
  std::vector<int64_t> expected;
  int passes = 0;
  int failures = 0;
  bool stop = false;
  bool done = false;
  std::string first_failure;
};

asio::awaitable<void> incr_load(std::shared_ptr<ClusterClient> c, Load* load) {
  while (!load->stop) {
    std::vector<Request> batch;
    for (const auto& k : load->keys) batch.push_back(Request::keyed(1, "INCR", k));
    auto r = co_await c->exec_all(std::move(batch));
    if (!r) {
      ++load->failures;
      if (load->first_failure.empty()) load->first_failure = c->last_error();
    } else {
      for (size_t i = 0; i < r->size(); ++i) {
        if ((*r)[i].as_integer() == load->expected[i] + 1) {
          ++load->expected[i];
        } else {
          ++load->failures;
          if (load->first_failure.empty()) load->first_failure = to_debug_string((*r)[i]);
        }
      }
    }
    ++load->passes;
  }
  load->done = true;
}

// Waits (event-based) until the load has completed two more passes, so it has met whatever the
// cluster looks like now at least once with a fresh batch.
asio::awaitable<void> two_more_passes(const Load* load) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  int until = load->passes + 2;
  while (load->passes < until) {
    t.expires_after(1ms);
    co_await t.async_wait(kTuple);
  }
}

struct Migration {
  Endpoint from, to;
  std::vector<Endpoint> masters;
  uint16_t slot;
  int batches = 0;
  std::string error;
};

asio::awaitable<Result<void>> migrate_slot(std::shared_ptr<Connection> src,
                                           std::shared_ptr<Connection> dst,
                                           std::vector<std::shared_ptr<Connection>> all,
                                           Migration* m, const Load* load) {
  auto src_id = co_await src->exec(Command::make("CLUSTER", "MYID"));
  auto dst_id = co_await dst->exec(Command::make("CLUSTER", "MYID"));
  if (!src_id || !dst_id) co_return Errc::kUnavailable;
  // Every key exists on the old owner first (a key created while the slot migrates goes
  // straight to the new one).
  co_await two_more_passes(load);
  auto imp =
      co_await dst->exec(Command::make("CLUSTER", "SETSLOT", m->slot, "IMPORTING", src_id->str));
  auto mig =
      co_await src->exec(Command::make("CLUSTER", "SETSLOT", m->slot, "MIGRATING", dst_id->str));
  if (!imp || imp->is_error() || !mig || mig->is_error()) co_return Errc::kServerError;
  co_await two_more_passes(load);
  for (;;) {
    auto keys = co_await src->exec(Command::make("CLUSTER", "GETKEYSINSLOT", m->slot, 10));
    if (!keys || !keys->is_array()) co_return Errc::kServerError;
    if (keys->elements.empty()) break;
    Command move;
    move.begin(7 + keys->elements.size());
    move.arg("MIGRATE").arg(m->to.host).arg(static_cast<int64_t>(m->to.port)).arg("");
    move.arg(int64_t{0}).arg(int64_t{5000}).arg("KEYS");
    for (const auto& k : keys->elements) move.arg(k.str);
    auto moved = co_await src->exec(std::move(move));
    if (!moved || moved->is_error()) {
      m->error = moved ? moved->str : moved.error().message();
      co_return Errc::kServerError;
    }
    ++m->batches;
    // Half the keys here, half there: the load must meet the slot in this state.
    co_await two_more_passes(load);
  }
  // The new owner first, then the old one, then everyone else (as redis-cli does).
  auto own = co_await dst->exec(Command::make("CLUSTER", "SETSLOT", m->slot, "NODE", dst_id->str));
  if (!own || own->is_error()) co_return Errc::kServerError;
  co_await two_more_passes(load);
  for (auto& c : all) {
    auto r = co_await c->exec(Command::make("CLUSTER", "SETSLOT", m->slot, "NODE", dst_id->str));
    if (!r || r->is_error()) co_return Errc::kServerError;
  }
  co_await two_more_passes(load);
  co_return Result<void>{};
}

TEST_F(ClusterClientTest, MigratedSlotIsFollowedThroughAskThenMovedWithoutAFailedRequest) {
  Load load;
  for (int i = 0; i < 50; ++i) load.keys.push_back("{migrating}:" + std::to_string(i));
  load.expected.assign(load.keys.size(), 0);
  Migration m;
  m.slot = key_slot("{migrating}");
  m.from = *client_->slot_map().owner(m.slot);
  m.masters = client_->slot_map().masters();
  for (const auto& e : m.masters) {
    if (!(e == m.from)) m.to = e;
  }
  auto src = direct(m.from);
  auto dst = direct(m.to);
  std::vector<std::shared_ptr<Connection>> all;
  for (const auto& e : m.masters) all.push_back(direct(e));

  asio::co_spawn(ctx_, incr_load(client_, &load), asio::detached);
  auto migrated = run_co(ctx_, migrate_slot(src, dst, all, &m, &load), 60s);
  load.stop = true;
  drive(ctx_, [&] { return load.done; });

  ASSERT_TRUE(migrated) << m.error;
  EXPECT_EQ(m.batches, 5);  // 50 keys, 10 per MIGRATE
  EXPECT_EQ(load.failures, 0) << load.first_failure;
  EXPECT_GT(client_->cluster_stats().asked, 0u);
  EXPECT_GT(client_->cluster_stats().moved, 0u);
  EXPECT_EQ(*client_->slot_map().owner(m.slot), m.to);
  // Every acknowledged INCR is on the new owner, and nothing stayed behind.
  int exact = 0;
  for (size_t i = 0; i < load.keys.size(); ++i) {
    if (direct_exec(m.to, Command::make("GET", load.keys[i])).as_integer() == load.expected[i]) {
      ++exact;
    }
  }
  EXPECT_EQ(exact, 50);
  EXPECT_EQ(direct_exec(m.from, Command::make("CLUSTER", "COUNTKEYSINSLOT", m.slot)).as_integer(),
            0);
  EXPECT_GT(load.expected[0], 0);
  std::printf("migration: %d load passes, %llu ASK and %llu MOVED followed, %llu retries\n",
              load.passes, static_cast<unsigned long long>(client_->cluster_stats().asked),
              static_cast<unsigned long long>(client_->cluster_stats().moved),
              static_cast<unsigned long long>(client_->cluster_stats().retried));
}

// Runs last among the suite's cluster tests: it leaves one master without a replica.
TEST_F(ClusterClientTest, KilledMasterIsReplacedByItsReplicaAndTheClientFollows) {
  const std::string key = "failover:key";
  const Endpoint old_master = *client_->slot_map().owner(key_slot(key));
  // Written on the master and acknowledged by its replica before the crash.
  auto conn = direct(old_master);
  ASSERT_TRUE(run_co(ctx_, conn->exec(Command::make("SET", key, "kept"))));
  auto acked = run_co(ctx_, conn->exec(Command::make("WAIT", 1, 5000)));
  ASSERT_TRUE(acked);
  ASSERT_EQ(acked->as_integer(), 1);
  auto served = run_co(ctx_, client_->exec(Request::keyed(1, "GET", key)));
  ASSERT_TRUE(served && served->as_string() == "kept");

  auto info = direct_exec(old_master, Command::make("INFO", "server"));
  auto at = info.str.find("process_id:");
  ASSERT_NE(at, std::string::npos);
  const pid_t pid = std::stoi(info.str.substr(at + 11));
  conn->stop();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);

  // Requests fail while the cluster notices (node timeout 2 s) and promotes the replica; the
  // client must then find the new master by itself.
  int failures = 0;
  auto started = Clock::now();
  EXPECT_EQ(run_co(ctx_, get_until_served(client_, key, "kept", &failures), 60s), 1);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  const Endpoint new_master = *client_->slot_map().owner(key_slot(key));
  EXPECT_FALSE(new_master == old_master);
  auto role = direct_exec(new_master, Command::make("ROLE"));
  ASSERT_TRUE(role.is_array() && !role.elements.empty());
  EXPECT_EQ(role.elements[0].as_string(), "master");
  std::printf("failover: served again after %lld ms, %d failed GETs meanwhile\n",
              static_cast<long long>(took.count()), failures);
}

// A fake "cluster" of one node on `port`: CLUSTER SLOTS says it owns every slot, and every other
// command gets `answer(port)`. Counts the other commands.
FakeRedis fake_node(std::atomic<uint16_t>* port, std::atomic<int>* commands,
                    std::string (*answer)(uint16_t)) {
  return FakeRedis([=](Peer& peer, int) {
    while (auto cmd = peer.next_command(5s)) {
      if (cmd->elements.size() == 2 && cmd->elements[0].str == "CLUSTER" &&
          cmd->elements[1].str == "SLOTS") {
        std::string p = std::to_string(port->load());
        peer.send("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:" + p +
                  "\r\n$2\r\nid\r\n");
      } else {
        ++*commands;
        peer.send(answer(port->load()));
      }
    }
  });
}

ClusterOptions fake_options(uint16_t port) {
  ClusterOptions o;
  o.seeds = {Endpoint{"127.0.0.1", port}};
  o.node = node_options();
  o.node.client_name.clear();  // no handshake: the fake sees only the client's commands
  o.refresh_interval = 1h;
  return o;
}

TEST(ClusterClientFaults, NodeAnsweringMovedToItselfGivesAClearErrorAfterBoundedAttempts) {
  asio::io_context ctx;
  std::atomic<uint16_t> port{0};
  std::atomic<int> commands{0};
  auto fake = fake_node(&port, &commands, [](uint16_t p) {
    return "-MOVED " + std::to_string(key_slot("k")) + " 127.0.0.1:" + std::to_string(p) + "\r\n";
  });
  port = fake.port();
  auto client = ClusterClient::create(ctx.get_executor(), fake_options(fake.port()));
  client->start();
  ASSERT_TRUE(run_co(ctx, client->wait_ready(5s))) << client->last_error();

  auto r = run_co(ctx, client->exec(Request::keyed(1, "GET", "k")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(Errc::kServerError));
  EXPECT_NE(client->last_error().find("gave up after 6 attempts"), std::string::npos)
      << client->last_error();
  EXPECT_NE(client->last_error().find("MOVED"), std::string::npos) << client->last_error();
  EXPECT_EQ(commands.load(), 6);
  EXPECT_EQ(client->cluster_stats().moved, 6u);
  client->stop();
  ctx.poll();
}

TEST(ClusterClientFaults, NodeAnsweringGarbageGivesAClearErrorAfterBoundedAttempts) {
  asio::io_context ctx;
  std::atomic<uint16_t> port{0};
  std::atomic<int> commands{0};
  auto fake = fake_node(&port, &commands, [](uint16_t) { return std::string("@garbage\r\n"); });
  port = fake.port();
  auto client = ClusterClient::create(ctx.get_executor(), fake_options(fake.port()));
  client->start();
  ASSERT_TRUE(run_co(ctx, client->wait_ready(5s))) << client->last_error();

  auto r = run_co(ctx, client->exec(Request::keyed(1, "GET", "k")), 30s);
  ASSERT_FALSE(r);
  // The broken stream is a protocol error; a round that found the node still reconnecting
  // reports it unavailable. Either way the call ends, with the node named in last_error().
  EXPECT_TRUE(r.error() == make_error_code(Errc::kProtocol) ||
              r.error() == make_error_code(Errc::kUnavailable))
      << r.error().message();
  EXPECT_NE(client->last_error().find("gave up after 6 attempts"), std::string::npos)
      << client->last_error();
  EXPECT_NE(client->last_error().find("127.0.0.1:" + std::to_string(fake.port())),
            std::string::npos)
      << client->last_error();
  EXPECT_GE(commands.load(), 1);
  EXPECT_LE(commands.load(), 6);
  client->stop();
  ctx.poll();
}

TEST(ClusterClientFaults, SeedAnsweringGarbageToClusterSlotsIsNeverReady) {
  asio::io_context ctx;
  FakeRedis fake([](Peer& peer, int) { peer.serve("@garbage\r\n"); });
  auto client = ClusterClient::create(ctx.get_executor(), fake_options(fake.port()));
  client->start();
  auto ready = run_co(ctx, client->wait_ready(1s));
  ASSERT_FALSE(ready);
  EXPECT_EQ(ready.error(), make_error_code(Errc::kTimeout));
  EXPECT_NE(client->last_error().find("127.0.0.1:" + std::to_string(fake.port())),
            std::string::npos)
      << client->last_error();
  EXPECT_NE(client->last_error().find("CLUSTER SLOTS"), std::string::npos) << client->last_error();
  EXPECT_TRUE(client->slot_map().empty());
  // A call with no map fails too, after its bounded attempts.
  auto r = run_co(ctx, client->exec(Request::keyed(1, "GET", "k")), 30s);
  EXPECT_FALSE(r);
  client->stop();
  ctx.poll();
}

}  // namespace
}  // namespace surge::redis
