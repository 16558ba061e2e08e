// The read-through cache against real Redis, with a counting loader standing in for MariaDB:
// exact DB-load counts under a stampede (one and two engines), penetration, jittered expiry,
// invalidation reaching another engine's near cache, and a lost feed flushing near caches. The
// expiry strategies run on a hand-moved clock shared by the engines (as instances share wall-clock
// time), so their rebuilds are counted per elapsed period without sleeping; every wait is for an
// event, bounded generously.
#include <atomic>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "cache/bloom.h"
#include "cache/read_through.h"
#include "common/clock.h"
#include "redis/commands.h"
#include "support/stores.h"

namespace surge::cache {
namespace {

using namespace std::chrono_literals;

// A loader that takes `delay` (like a slow query), counts calls, and knows ids 1..1000. With
// `row` set, the value's "v" is that shared row's content read as the load begins (a database
// several engines share); with `gate` closed, a load holds after reading until it opens.
struct SlowSource {
  asio::io_context& ctx;
  std::chrono::milliseconds delay;
  std::atomic<int> loads{0};
  std::atomic<int>* row = nullptr;
  std::atomic<bool> gate_closed{false};
  std::atomic<int> held{0};  // loads that have read and are waiting at the closed gate
  // With a hand-moved clock: how far each load moves it (the rebuild time the cache measures).
  ManualClock* clock = nullptr;
  std::chrono::milliseconds takes{0};

  asio::awaitable<Result<Loaded>> load(std::string id) {
    int version = ++loads;
    if (clock) clock->advance(takes);
    if (row) version = row->load();
    if (gate_closed) {
      ++held;
      asio::steady_timer poll(ctx);
      for (int i = 0; i < 30000 && gate_closed; ++i) {
        poll.expires_after(1ms);
        co_await poll.async_wait(asio::use_awaitable);
      }
    }
    asio::steady_timer t(ctx, delay);
    co_await t.async_wait(asio::use_awaitable);
    int n = std::stoi(id);
    if (n < 1 || n > 1000) co_return Loaded();
    co_return Loaded("{\"id\":" + id + ",\"v\":" + std::to_string(version) + "}");
  }
};

// One engine = its own io_context thread, Redis connection and feed subscriber, as one instance.
class Engine {
 public:
  Engine(const std::string& cls, std::chrono::milliseconds delay, ClassOptions options = {},
         const Clock& clock = Clock::system())
      : source_{ctx_, delay} {
    auto ro = test::stores().redis;
    conn_ = redis::NodeClient::create(ctx_.get_executor(), ro);
    feed_ = redis::Connection::create(ctx_.get_executor(), ro);
    options.name = cls;
    cache_ = std::make_unique<ReadThrough>(
        options, [this](std::string id) { return source_.load(std::move(id)); },
        std::vector<ReadThrough::Worker>{{ctx_.get_executor(), conn_.get()}}, clock);
    feed_->add_subscription(cache_->filled_channel());
    feed_->add_subscription(cache_->invalidate_channel());
    feed_->set_push_handler(
        [this](redis::Reply m) { cache_->on_message(m.elements[1].str, m.elements[2].str); });
    feed_->set_state_handler([this](bool up) { cache_->on_feed_state(up); });
    conn_->start();
    feed_->start();
    guard_.emplace(ctx_.get_executor());
    thread_ = std::thread([this] { ctx_.run(); });
    EXPECT_TRUE(run(conn_->wait_ready(3s)));
    EXPECT_TRUE(run(feed_->wait_ready(3s)));
  }
  ~Engine() {
    asio::post(ctx_, [this] {
      conn_->stop();
      feed_->stop();
    });
    guard_.reset();
    thread_.join();
  }

  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(ctx_, std::move(a), asio::use_future).get();
  }
  // Starts n concurrent gets of `id`; returns a future of how many returned the value.
  std::future<int> stampede(int n, std::string id) {
    auto done = std::make_shared<std::promise<int>>();
    auto state = std::make_shared<std::pair<int, int>>(0, 0);  // finished, found
    asio::post(ctx_, [this, n, id, done, state] {
      for (int i = 0; i < n; ++i) {
        asio::co_spawn(ctx_, cache_->get(0, id),
                       [n, done, state](std::exception_ptr, Result<Loaded> r) {
                         if (r && *r) ++state->second;
                         if (++state->first == n) done->set_value(state->second);
                       });
      }
    });
    return done->get_future();
  }

  ReadThrough& cache() { return *cache_; }
  SlowSource& source() { return source_; }
  redis::Client& redis() { return *conn_; }
  redis::Connection& feed() { return *feed_; }
  asio::io_context& ctx() { return ctx_; }

 private:
  asio::io_context ctx_;
  SlowSource source_;
  std::shared_ptr<redis::NodeClient> conn_;
  std::shared_ptr<redis::Connection> feed_;
  std::unique_ptr<ReadThrough> cache_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

// A duration in whole milliseconds, as PTTL reports it.
template <class D>
int64_t ms(D d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Waits (bounded) until `done()` holds.
template <class Pred>
bool eventually(Pred done, std::chrono::seconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::string unique_class(const char* base) {
  return std::string(base) + std::to_string(::getpid()) +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

TEST(ReadThrough, ThousandConcurrentMissesLoadOnce) {
  Engine e(unique_class("s1"), 100ms);
  auto found = e.stampede(1000, "7");
  ASSERT_EQ(found.get(), 1000);
  EXPECT_EQ(e.source().loads.load(), 1);
  EXPECT_EQ(e.cache().counters().db_loads.load(), 1u);
  // The stored value has the class TTL with jitter.
  auto ttl = e.run(redis::pttl(e.redis(), e.cache().key("7")));
  ASSERT_TRUE(ttl);
  EXPECT_GT(*ttl, ms(30min * 0.94));
}

TEST(ReadThrough, TwoEnginesOnSeparateConnectionsStillLoadOnce) {
  std::string cls = unique_class("s2");
  // A patience far beyond the test's bound: a waiter that misses its fill wake-up would sit
  // out the whole minute instead of re-reading, so only the wake-up can finish in time.
  ClassOptions o;
  o.wait_timeout = 60s;
  Engine a(cls, 200ms, o), b(cls, 200ms, o);
  auto fa = a.stampede(500, "42");
  auto fb = b.stampede(500, "42");
  ASSERT_EQ(fa.wait_for(15s), std::future_status::ready) << "a fill wake-up went missing";
  ASSERT_EQ(fb.wait_for(15s), std::future_status::ready) << "a fill wake-up went missing";
  EXPECT_EQ(fa.get(), 500);
  EXPECT_EQ(fb.get(), 500);
  EXPECT_EQ(a.source().loads.load() + b.source().loads.load(), 1);
  // The engine that lost the lock waited for the fill message, not for its deadline.
  EXPECT_EQ(a.cache().counters().wait_timeouts.load() + b.cache().counters().wait_timeouts.load(),
            0u);
}

TEST(ReadThrough, AbsentIdsAreCachedAsNullAndNeverReloaded) {
  Engine e(unique_class("s3"), 1ms);
  auto first = e.stampede(100, "5000");  // outside 1..1000: absent
  EXPECT_EQ(first.get(), 0);
  EXPECT_EQ(e.source().loads.load(), 1);
  for (int i = 0; i < 10000; ++i) {
    auto r = e.run(e.cache().get(0, "5000"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
  }
  EXPECT_EQ(e.source().loads.load(), 1);
  auto ttl = e.run(redis::pttl(e.redis(), e.cache().key("5000")));
  ASSERT_TRUE(ttl);
  EXPECT_LE(*ttl, ms(2min * 1.05));
}

TEST(ReadThrough, BloomFilterKeepsRandomAbsentIdsAwayFromTheDatabase) {
  Engine e(unique_class("s7"), 0ms);
  BloomFilter bloom(unique_class("b7"), 1000, 1e-6);
  std::vector<std::string> ids;
  for (int i = 1; i <= 1000; ++i) ids.push_back(std::to_string(i));
  ASSERT_FALSE(bloom.ready());
  ASSERT_TRUE(e.run(bloom.build(e.redis(), ids)));
  ASSERT_TRUE(bloom.ready());
  e.cache().set_bloom(&bloom);
  std::mt19937_64 rng(99);
  for (int i = 0; i < 10000; ++i) {
    auto id = std::to_string(2000000 + rng() % 1000000000);
    auto r = e.run(e.cache().get(0, id));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
  }
  EXPECT_EQ(e.source().loads.load(), 0);
  EXPECT_EQ(e.cache().counters().bloom_reject.load(), 10000u);
  // Existing ids still load, and an id added later passes the filter.
  ASSERT_TRUE(*e.run(e.cache().get(0, "500")));
  EXPECT_FALSE(*e.run(bloom.might_contain(e.redis(), "1000001")));
  ASSERT_TRUE(e.run(bloom.add(e.redis(), "1000001")));
  EXPECT_TRUE(*e.run(bloom.might_contain(e.redis(), "1000001")));
  auto st = e.run(bloom.stats(e.redis()));
  ASSERT_TRUE(st);
  EXPECT_GT(st->fill_ratio, 0.0);
  EXPECT_LT(st->estimated_fpr, 1e-5);
  e.run(redis::del(e.redis(), {bloom.key()}));
}

// One instance's shop filter: its own thread, command connection and feed wired as the service
// wires them (messages set bits, a (re)connected feed syncs the copy).
class FilterInstance {
 public:
  explicit FilterInstance(const std::string& name) : bloom_(name, 1000, 1e-6) {
    auto ro = test::stores().redis;
    conn_ = redis::NodeClient::create(ctx_.get_executor(), ro);
    conn_->start();
    guard_.emplace(ctx_.get_executor());
    thread_ = std::thread([this] { ctx_.run(); });
    EXPECT_TRUE(run(conn_->wait_ready(3s)));
    start_feed();
  }
  ~FilterInstance() {
    asio::post(ctx_, [this] {
      conn_->stop();
      if (feed_) feed_->stop();
    });
    guard_.reset();
    thread_.join();
  }
  void start_feed() {
    feed_ = redis::Connection::create(ctx_.get_executor(), test::stores().redis);
    feed_->add_subscription(bloom_.channel());
    feed_->set_push_handler(
        [this](redis::Reply m) { bloom_.on_message(m.elements[1].str, m.elements[2].str); });
    feed_->set_state_handler([this](bool up) {
      bloom_.on_feed_state(up);
      if (up) asio::co_spawn(ctx_, sync(), asio::detached);
    });
    asio::post(ctx_, [f = feed_] { f->start(); });
  }
  // The feed is lost: it reports so (as a dropped connection does) and stays down.
  void stop_feed() {
    run([](std::shared_ptr<redis::Connection> f, BloomFilter& b) -> asio::awaitable<bool> {
      b.on_feed_state(false);
      f->stop();
      co_return true;
    }(feed_, bloom_));
  }
  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(ctx_, std::move(a), asio::use_future).get();
  }
  BloomFilter& bloom() { return bloom_; }
  redis::Client& redis() { return *conn_; }
  redis::Connection& connection() { return conn_->connection(); }

 private:
  asio::awaitable<void> sync() { (void)co_await bloom_.sync(*conn_); }

  asio::io_context ctx_;
  BloomFilter bloom_;
  std::shared_ptr<redis::NodeClient> conn_;
  std::shared_ptr<redis::Connection> feed_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

// Each instance answers "absent" from its own copy of the filter, without a Redis command; an id
// added on one instance reaches the other's copy through the channel; a copy whose feed is
// down is not trusted (Redis answers), and a reconnected feed's sync brings back what it missed.
TEST(ReadThrough, EachInstanceAnswersAbsentIdsFromItsOwnCopyOfTheFilter) {
  std::string name = unique_class("b8");
  FilterInstance a(name), b(name);
  std::vector<std::string> ids;
  for (int i = 1; i <= 300; ++i) ids.push_back(std::to_string(i));
  ASSERT_TRUE(a.run(a.bloom().build(a.redis(), ids)));
  ASSERT_TRUE(b.run(b.bloom().build(b.redis(), {})));  // b's database read found nothing new
  ASSERT_TRUE(eventually([&] { return a.bloom().local_ready() && b.bloom().local_ready(); }));

  uint64_t before = b.connection().stats().requests;
  for (int i = 1; i <= 300; ++i) {
    ASSERT_TRUE(*b.run(b.bloom().might_contain(b.redis(), std::to_string(i)))) << i;
  }
  int absent = 0;
  for (int i = 0; i < 1000; ++i) {
    absent += !*b.run(b.bloom().might_contain(b.redis(), "absent-" + std::to_string(i)));
  }
  EXPECT_EQ(absent, 1000);
  EXPECT_EQ(b.connection().stats().requests, before);  // all from memory

  ASSERT_TRUE(a.run(a.bloom().add(a.redis(), "777777")));
  EXPECT_EQ(a.bloom().might_contain_here("777777"), std::optional<bool>(true));
  EXPECT_TRUE(eventually([&] { return b.bloom().might_contain_here("777777") == true; }));

  // b's feed goes away: its copy stops answering, and Redis answers instead.
  b.stop_feed();
  EXPECT_FALSE(b.bloom().local_ready());
  EXPECT_EQ(b.bloom().might_contain_here("absent-1"), std::nullopt);
  before = b.connection().stats().requests;
  EXPECT_FALSE(*b.run(b.bloom().might_contain(b.redis(), "absent-1")));
  EXPECT_EQ(b.connection().stats().requests, before + 1);
  // Added meanwhile on a: b's copy misses the message, and the sync after its feed is back
  // brings it.
  ASSERT_TRUE(a.run(a.bloom().add(a.redis(), "888888")));
  b.start_feed();
  ASSERT_TRUE(eventually([&] { return b.bloom().local_ready(); }));
  EXPECT_EQ(b.bloom().might_contain_here("888888"), std::optional<bool>(true));
  a.run(redis::del(a.redis(), {a.bloom().key()}));
}

// The "v" field of a loaded test value: which load produced it.
int version_of(const Result<Loaded>& r) {
  if (!r || !*r) return -1;
  auto pos = (*r)->find("\"v\":");
  return pos == std::string::npos ? -1 : std::stoi((*r)->substr(pos + 4));
}

// The logical expiry written into a stored entry ("~<expire_at_ms>:..."), or 0 without one.
int64_t stored_expiry(Engine& e, const std::string& id) {
  auto raw = e.run(redis::get(e.redis(), e.cache().key(id)));
  if (!raw || !*raw || !(*raw)->starts_with("~")) return 0;
  return std::stoll((*raw)->substr(1));
}

// Both engines' background refreshes have ended (each as a rebuild or a skip).
bool refreshes_ended(Engine& a, Engine& b) {
  return eventually([&] {
    return a.cache().counters().refreshes_running.load() == 0 &&
           b.cache().counters().refreshes_running.load() == 0;
  });
}

uint64_t sum(Engine& a, Engine& b, const std::atomic<uint64_t> CacheCounters::*field) {
  return (a.cache().counters().*field).load() + (b.cache().counters().*field).load();
}

constexpr int64_t kEpochMs = 1900000000000;  // where the hand-moved clocks start

TEST(ReadThrough, LogicalExpiryServesStaleWhileExactlyOneRebuildRuns) {
  ClassOptions o;
  o.strategy = Strategy::kLogicalExpiry;
  o.ttl = 5min;
  o.jitter = 0;
  o.near_ttl = 0ms;
  std::string cls = unique_class("s8");
  ManualClock clock(kEpochMs);
  Engine a(cls, 0ms, o, clock), b(cls, 0ms, o, clock);
  EXPECT_EQ(version_of(a.run(a.cache().get(0, "8"))), 1);  // a cold key loads synchronously
  EXPECT_EQ(*a.run(redis::pttl(a.redis(), a.cache().key("8"))), -1);  // no Redis TTL
  EXPECT_EQ(stored_expiry(a, "8"), kEpochMs + ms(5min));
  // One millisecond before its expiry the entry is fresh: no rebuild, nothing stale.
  clock.advance(5min - 1ms);
  EXPECT_EQ(a.stampede(50, "8").get(), 50);
  EXPECT_EQ(a.cache().counters().stale.load(), 0u);
  clock.advance(1ms);
  // The rebuild is held at a closed gate: a read that waited on it would hang, so every read
  // finishing while the gate is closed proves they were all answered stale.
  a.source().gate_closed = true;
  b.source().gate_closed = true;
  auto fa = a.stampede(200, "8");
  auto fb = b.stampede(200, "8");
  ASSERT_EQ(fa.wait_for(10s), std::future_status::ready) << "a read waited on the rebuild";
  ASSERT_EQ(fb.wait_for(10s), std::future_status::ready) << "a read waited on the rebuild";
  EXPECT_EQ(fa.get(), 200);
  EXPECT_EQ(fb.get(), 200);
  EXPECT_EQ(sum(a, b, &CacheCounters::stale), 400u);
  ASSERT_TRUE(eventually([&] { return a.source().held.load() + b.source().held.load() == 1; }));
  a.source().gate_closed = false;
  b.source().gate_closed = false;
  // The one rebuild lands in the background with a fresh expiry from the (unmoved) clock.
  ASSERT_TRUE(eventually([&] { return stored_expiry(b, "8") > clock.now_ms(); }))
      << "the rebuild never stored a fresh value";
  EXPECT_EQ(stored_expiry(b, "8"), clock.now_ms() + ms(5min));
  ASSERT_TRUE(refreshes_ended(a, b));
  EXPECT_EQ(a.source().loads.load() + b.source().loads.load(), 2);
  EXPECT_EQ(sum(a, b, &CacheCounters::rebuilds), 1u);
  EXPECT_EQ(sum(a, b, &CacheCounters::stale), 400u);
  EXPECT_EQ(sum(a, b, &CacheCounters::miss), 1u);
  // An update rewrites the entry: the key is never missing, and the next read is a's new load.
  ASSERT_TRUE(a.run(a.cache().invalidate(0, "8")));
  EXPECT_EQ(*a.run(redis::pttl(a.redis(), a.cache().key("8"))), -1);
  EXPECT_EQ(a.source().loads.load() + b.source().loads.load(), 3);
  EXPECT_EQ(version_of(b.run(b.cache().get(0, "8"))), a.source().loads.load());
}

// Logical expiry across many periods, two instances reading at once in each: exactly one rebuild
// per period that passed, whichever instance saw the stale entry first, and none in between.
// (A refresh whose lock comes free only after the other instance's rebuild landed skips; that
// window is narrow, and this test does not force it.)
TEST(ReadThrough, LogicalExpiryRebuildsOncePerElapsedPeriod) {
  ClassOptions o;
  o.strategy = Strategy::kLogicalExpiry;
  o.ttl = 1min;
  o.jitter = 0;
  o.near_ttl = 0ms;
  std::string cls = unique_class("s13");
  ManualClock clock(kEpochMs);
  Engine a(cls, 0ms, o, clock), b(cls, 0ms, o, clock);
  ASSERT_EQ(version_of(a.run(a.cache().get(0, "14"))), 1);
  constexpr int kPeriods = 40;
  for (int period = 1; period <= kPeriods; ++period) {
    // Half a period in: fresh, no rebuild.
    clock.advance(30s);
    ASSERT_EQ(a.stampede(10, "14").get(), 10);
    ASSERT_EQ(sum(a, b, &CacheCounters::rebuilds), static_cast<uint64_t>(period - 1));
    clock.advance(30s);
    auto fa = a.stampede(20, "14");
    auto fb = b.stampede(20, "14");
    ASSERT_EQ(fa.get(), 20);
    ASSERT_EQ(fb.get(), 20);
    ASSERT_TRUE(eventually([&] { return stored_expiry(a, "14") > clock.now_ms(); }));
    ASSERT_TRUE(refreshes_ended(a, b));
    ASSERT_EQ(sum(a, b, &CacheCounters::rebuilds), static_cast<uint64_t>(period))
        << "period " << period;
  }
  EXPECT_EQ(a.source().loads.load() + b.source().loads.load(), 1 + kPeriods);
  EXPECT_EQ(sum(a, b, &CacheCounters::miss), 1u);
}

// The default strategy, two instances with concurrent readers across several TTL periods on a
// hand-moved clock. Each rebuild takes 20 s of the 10 min TTL (the loader moves the clock), so
// XFetch refreshes early: the entry is renewed before its expiry every period, each refresh is
// one load across both instances, and reads far from expiry never refresh.
TEST(ReadThrough, EarlyRefreshRenewsHotKeysBeforeTheyExpire) {
  ClassOptions o;
  o.strategy = Strategy::kEarlyRefresh;
  o.ttl = 10min;
  o.jitter = 0;
  o.near_ttl = 0ms;
  o.xfetch_beta = 1.0;
  std::string cls = unique_class("s9");
  ManualClock clock(kEpochMs);
  Engine a(cls, 0ms, o, clock), b(cls, 0ms, o, clock);
  for (Engine* e : {&a, &b}) {
    e->source().clock = &clock;
    e->source().takes = 20s;
  }
  ASSERT_EQ(version_of(a.run(a.cache().get(0, "4"))), 1);
  int64_t expiry = stored_expiry(a, "4");
  ASSERT_EQ(expiry, clock.now_ms() + ms(10min));
  // Far from expiry (10 min ahead: a chance of e^-30 per read), nobody refreshes.
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(a.stampede(10, "4").get(), 10);
    ASSERT_EQ(b.stampede(10, "4").get(), 10);
  }
  EXPECT_EQ(sum(a, b, &CacheCounters::rebuilds), 0u);
  int renewals = 0;
  while (renewals < 3) {
    clock.advance(5s);
    ASSERT_LT(clock.now_ms(), expiry) << "the entry reached its expiry without a refresh";
    auto fa = a.stampede(10, "4");
    auto fb = b.stampede(10, "4");
    ASSERT_EQ(fa.get(), 10);
    ASSERT_EQ(fb.get(), 10);
    ASSERT_TRUE(refreshes_ended(a, b));
    int64_t now_stored = stored_expiry(a, "4");
    if (now_stored != expiry) {
      ASSERT_GT(now_stored, expiry);
      expiry = now_stored;
      ++renewals;
      ASSERT_EQ(sum(a, b, &CacheCounters::rebuilds), static_cast<uint64_t>(renewals));
    }
  }
  // Reads never found the key missing after the first load, and every load was the first or
  // one refresh: no instance loaded on its own.
  EXPECT_EQ(sum(a, b, &CacheCounters::miss), 1u);
  EXPECT_EQ(a.source().loads.load() + b.source().loads.load(), 1 + renewals);
}

TEST(ReadThrough, KeysWrittenTogetherExpireApart) {
  ClassOptions o;
  o.near_ttl = 0ms;
  Engine e(unique_class("s4"), 0ms, o);
  std::set<int64_t> seconds;
  // 10,000 keys filled together (ids past 1,000 are null markers with the short TTL).
  for (int id = 1; id <= 10000; ++id) ASSERT_TRUE(e.run(e.cache().get(0, std::to_string(id))));
  std::set<int64_t> null_seconds;
  for (int id = 1001; id <= 10000; ++id) {
    auto ttl = e.run(redis::pttl(e.redis(), e.cache().key(std::to_string(id))));
    ASSERT_TRUE(ttl);
    ASSERT_LE(*ttl, ms(2min * 1.05));
    null_seconds.insert(*ttl / 1000);
  }
  EXPECT_GT(null_seconds.size(), 8u);  // ±5% of 2 min is a 12 s window
  for (int id = 1; id <= 1000; ++id) {
    auto ttl = e.run(redis::pttl(e.redis(), e.cache().key(std::to_string(id))));
    ASSERT_TRUE(ttl);
    ASSERT_GE(*ttl, ms(30min * 0.95) - 60000);
    ASSERT_LE(*ttl, ms(30min * 1.05));
    seconds.insert(*ttl / 1000);
  }
  // ±5% of 30 min is a 180 s window; 1,000 keys spread over most of it.
  EXPECT_GT(seconds.size(), 100u);
}

TEST(ReadThrough, InvalidationReachesAnotherEnginesNearCache) {
  std::string cls = unique_class("s5");
  Engine a(cls, 0ms), b(cls, 0ms);
  ASSERT_TRUE(b.run(b.cache().get(0, "9")));  // b now holds 9 in its near cache
  ASSERT_TRUE(b.run(b.cache().get(0, "9")));
  EXPECT_EQ(b.cache().counters().near_hit.load(), 1u);
  int loads_before = b.source().loads.load() + a.source().loads.load();
  ASSERT_TRUE(a.run(a.cache().invalidate(0, "9")));
  // Event-based: wait for the message to arrive (how fast it does is bench/'s business).
  ASSERT_TRUE(eventually([&] { return b.cache().counters().invalidations.load() >= 1; }));
  // The erase is posted to b's worker after the count; a round trip through it orders the two.
  b.run([]() -> asio::awaitable<bool> { co_return true; }());
  // The next read in b misses its near cache and Redis, so it reloads.
  ASSERT_TRUE(b.run(b.cache().get(0, "9")));
  EXPECT_EQ(b.cache().counters().near_hit.load(), 1u);
  EXPECT_EQ(b.source().loads.load() + a.source().loads.load(), loads_before + 1);
}

// The stale-set race: b's rebuild reads the old row, a writer updates the row and invalidates,
// then b's rebuild finishes. Its value must not land in Redis, or every instance would serve the
// old row for the whole TTL.
// A fill Redis refuses to store (here the version key turned into a list during the load, so
// the fill script's GET fails with WRONGTYPE) still answers its reader, and is counted as a
// store failure rather than only logged, so a store that always fails shows on /metrics.
TEST(ReadThrough, AFillRedisRefusesIsAnsweredAndCountedAsAStoreFailure) {
  std::string cls = unique_class("s14");
  Engine e(cls, 0ms);
  e.source().gate_closed = true;
  auto reader = e.stampede(1, "12");
  ASSERT_TRUE(eventually([&] { return e.source().held.load() == 1; }));  // version read, loading
  const std::string version = e.cache().version_key("12");
  ASSERT_TRUE(e.run(e.redis().exec(redis::Request::keyed(1, "RPUSH", version, "not-a-version"))));
  e.source().gate_closed = false;
  EXPECT_EQ(reader.get(), 1);  // answered with the loaded row
  EXPECT_EQ(e.cache().counters().store_failures.load(), 1u);
  EXPECT_EQ(e.cache().counters().fills_refused.load(), 0u);
  auto raw = e.run(redis::get(e.redis(), e.cache().key("12")));
  ASSERT_TRUE(raw);
  EXPECT_FALSE(*raw) << "stored anyway: " << **raw;
  ASSERT_TRUE(e.run(e.redis().exec(redis::Request::keyed(1, "DEL", version))));
}

TEST(ReadThrough, ARebuildOvertakenByAnInvalidationDoesNotStoreTheOldRow) {
  std::string cls = unique_class("s10");
  std::atomic<int> row{1};
  Engine a(cls, 0ms), b(cls, 0ms), c(cls, 0ms);
  for (Engine* e : {&a, &b, &c}) e->source().row = &row;
  b.source().gate_closed = true;
  auto fb = b.stampede(1, "11");
  ASSERT_TRUE(eventually([&] { return b.source().held.load() == 1; }));
  row = 2;  // the writer's UPDATE commits, then it invalidates
  ASSERT_TRUE(a.run(a.cache().invalidate(0, "11")));
  b.source().gate_closed = false;
  EXPECT_EQ(fb.get(), 1);  // b's reader still gets an answer (read concurrently with the write)
  EXPECT_EQ(b.cache().counters().fills_refused.load(), 1u);
  auto raw = c.run(redis::get(c.redis(), c.cache().key("11")));
  ASSERT_TRUE(raw);
  EXPECT_FALSE(*raw) << "Redis holds " << **raw;
  EXPECT_EQ(version_of(c.run(c.cache().get(0, "11"))), 2);
  // b did not keep the old row in its near cache either.
  EXPECT_EQ(version_of(b.run(b.cache().get(0, "11"))), 2);
}

// Same race under logical expiry: a background rebuild that read the old row finishes after an
// update rewrote the entry; the rewrite must survive.
TEST(ReadThrough, ABackgroundRebuildCannotOverwriteAnUpdatesRewrite) {
  ClassOptions o;
  o.strategy = Strategy::kLogicalExpiry;
  o.ttl = 1ms;
  o.jitter = 0;
  o.near_ttl = 0ms;
  std::string cls = unique_class("s11");
  std::atomic<int> row{1};
  ManualClock clock(kEpochMs);
  Engine a(cls, 0ms, o, clock), b(cls, 0ms, o, clock);
  for (Engine* e : {&a, &b}) e->source().row = &row;
  ASSERT_EQ(version_of(b.run(b.cache().get(0, "12"))), 1);
  clock.advance(1ms);  // the logical expiry
  b.source().gate_closed = true;
  ASSERT_EQ(version_of(b.run(b.cache().get(0, "12"))), 1);  // stale, starts b's rebuild
  ASSERT_TRUE(eventually([&] { return b.source().held.load() == 1; }));
  row = 2;
  ASSERT_TRUE(a.run(a.cache().invalidate(0, "12")));
  b.source().gate_closed = false;
  auto stored = [&] {
    auto raw = a.run(redis::get(a.redis(), a.cache().key("12")));
    return raw && *raw ? **raw : std::string();
  };
  // b's rebuild has ended once it was refused, or (the bug) once it wrote the old row.
  ASSERT_TRUE(eventually([&] {
    return b.cache().counters().fills_refused.load() == 1 ||
           stored().find("\"v\":1}") != std::string::npos;
  }));
  EXPECT_NE(stored().find("\"v\":2}"), std::string::npos) << stored();
  EXPECT_EQ(b.cache().counters().fills_refused.load(), 1u);
}

// A Redis reply read before an invalidation but handled after it may hold the old value: the
// near cache must not keep it. b's GET is held behind a BLPOP on the same connection while the
// invalidation is handled, then answered with the old value.
TEST(ReadThrough, ANearCacheRefusesAReplyAnInvalidationOvertook) {
  std::string cls = unique_class("s12");
  Engine b(cls, 0ms);
  std::string k = b.cache().key("13");
  std::string gate = "gate:" + cls;
  ASSERT_TRUE(b.run(redis::set(b.redis(), k, "{\"old\":1}", redis::Millis(60000))));
  std::promise<Result<Loaded>> got;
  std::atomic<bool> invalidation_handled{false};
  asio::post(b.ctx(), [&] {
    asio::co_spawn(b.ctx(), b.redis().exec(redis::Request::keyed(1, "BLPOP", gate, "5")),
                   asio::detached);
    asio::co_spawn(b.ctx(), b.cache().get(0, "13"),
                   [&](std::exception_ptr, Result<Loaded> r) { got.set_value(std::move(r)); });
    // Posted after the get has taken its epoch and queued its GET behind the BLPOP.
    b.cache().on_message(b.cache().invalidate_channel(), "13");
    asio::post(b.ctx(), [&] { invalidation_handled = true; });
  });
  ASSERT_TRUE(eventually([&] { return invalidation_handled.load(); }));
  Engine other(cls + "x", 0ms);
  ASSERT_TRUE(other.run(other.redis().exec(redis::Request::keyed(1, "LPUSH", gate, "go"))));
  auto r = got.get_future().get();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ(**r, "{\"old\":1}");
  EXPECT_EQ(b.cache().counters().redis_hit.load(), 1u);
  // The writer's new value reaches Redis; b must read it there, not the old one from memory.
  ASSERT_TRUE(b.run(redis::set(b.redis(), k, "{\"new\":1}", redis::Millis(60000))));
  auto again = b.run(b.cache().get(0, "13"));
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(**again, "{\"new\":1}");
  EXPECT_EQ(b.cache().counters().near_hit.load(), 0u);
}

TEST(ReadThrough, LosingTheFeedFlushesNearCaches) {
  Engine e(unique_class("s6"), 0ms);
  ASSERT_TRUE(e.run(e.cache().get(0, "3")));
  ASSERT_TRUE(e.run(e.cache().get(0, "3")));
  EXPECT_EQ(e.cache().counters().near_hit.load(), 1u);
  // Kill the feed's connection from the server side; its reconnect reports the loss.
  auto list = e.run(e.redis().exec(
      redis::Request::keyed(redis::Request::kNoKey, "CLIENT", "KILL", "TYPE", "pubsub")));
  ASSERT_TRUE(list);
  ASSERT_TRUE(eventually([&] { return e.cache().counters().near_flushes.load() >= 1; }));
  EXPECT_EQ(e.cache().counters().near_flushes.load(), 1u);
  // The flush is posted to the worker after the count; a round trip through it orders the two.
  e.run([]() -> asio::awaitable<bool> { co_return true; }());
  ASSERT_TRUE(e.run(e.cache().get(0, "3")));
  EXPECT_EQ(e.cache().counters().near_hit.load(), 1u);  // served from Redis, not the near cache
  EXPECT_EQ(e.cache().counters().redis_hit.load(), 1u);
}

}  // namespace
}  // namespace surge::cache
