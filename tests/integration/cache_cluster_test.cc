// The cache layer on a real 3-master, 3-replica Redis Cluster of the suite's own, through a
// ClusterClient (no database: the read-through cache loads from an in-memory source): the
// read-through cache's fill and invalidation scripts, near-cache invalidation between two
// instances whose feeds listen on different masters, the Bloom filter and the reentrant lock.
// Every case picks ids, filters and locks whose keys land on different masters (and says so with
// redis::key_slot), so a command that spans two slots would answer CROSSSLOT and fail it.
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "cache/bloom.h"
#include "cache/read_through.h"
#include "cache/reentrant_lock.h"
#include "common/clock.h"
#include "redis/cluster.h"
#include "redis/commands.h"
#include "redis/connection.h"
#include "redis/slot.h"
#include "support/cluster.h"
#include "support/drive.h"

namespace surge::cache {
namespace {

using namespace std::chrono_literals;
using test::run_co;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new test::ClusterEnvironment);

// Unique per process and test, so parallel runs never share a key class, filter or lock.
std::string unique(const char* base) {
  return std::string(base) + std::to_string(::getpid()) +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// The source of truth a loader reads: rows by id, and how often each was loaded.
struct Rows {
  std::map<std::string, std::string> rows;
  std::map<std::string, int> loads;

  asio::awaitable<Result<Loaded>> load(std::string id) {
    ++loads[id];
    auto it = rows.find(id);
    if (it == rows.end()) co_return Loaded();
    co_return Loaded(it->second);
  }
};

// One instance of a key class on the test's io_context: its cache over the shared ClusterClient
// and, optionally, its invalidation feed on one cluster node.
class Instance {
 public:
  Instance(asio::io_context& ctx, redis::Client& client, Rows& rows, const std::string& cls)
      : ctx_(ctx) {
    ClassOptions o;
    o.name = cls;
    cache_ = std::make_unique<ReadThrough>(
        o, [&rows](std::string id) { return rows.load(std::move(id)); },
        std::vector<ReadThrough::Worker>{{ctx.get_executor(), &client}}, Clock::system());
  }
  ~Instance() {
    if (!feed_) return;
    feed_->stop();
    test::drive_for(ctx_, 20ms);
  }

  // Subscribes this instance's feed on `node` (classic pub/sub: a cluster forwards every
  // PUBLISH to every node, so any node hears every instance).
  void listen_on(const redis::Endpoint& node) {
    redis::Options o;
    o.host = node.host;
    o.port = node.port;
    feed_ = redis::Connection::create(ctx_.get_executor(), o);
    feed_->add_subscription(cache_->filled_channel());
    feed_->add_subscription(cache_->invalidate_channel());
    feed_->set_push_handler(
        [this](redis::Reply m) { cache_->on_message(m.elements[1].str, m.elements[2].str); });
    feed_->set_state_handler([this](bool up) { cache_->on_feed_state(up); });
    feed_->start();
    ASSERT_TRUE(run_co(ctx_, feed_->wait_ready(5s))) << "no feed on " << node.to_string();
  }

  ReadThrough& cache() { return *cache_; }
  Result<Loaded> get(const std::string& id) { return run_co(ctx_, cache_->get(0, id)); }
  Result<void> invalidate(const std::string& id) { return run_co(ctx_, cache_->invalidate(0, id)); }

 private:
  asio::io_context& ctx_;
  std::unique_ptr<ReadThrough> cache_;
  std::shared_ptr<redis::Connection> feed_;
};

class CacheOnCluster : public test::OnCluster {
 protected:
  // Ids (1 up to `limit`) whose keys under `key_of` land on `count` different masters.
  template <class KeyOf>
  std::vector<std::string> on_distinct_masters(size_t count, KeyOf key_of, int limit = 200) {
    std::vector<std::string> picked;
    std::set<std::string> masters;
    for (int n = 1; n <= limit && picked.size() < count; ++n) {
      std::string v = std::to_string(n);
      if (masters.insert(master_of(key_of(v))).second) picked.push_back(v);
    }
    EXPECT_EQ(picked.size(), count) << "nothing on " << count << " masters";
    return picked;
  }
};

TEST_F(CacheOnCluster, ReadThroughFillsHitsAndInvalidatesOnEveryMaster) {
  const std::string cls = unique("cc");
  Rows rows;
  Instance a(ctx_, *client_, rows, cls);
  auto ids = on_distinct_masters(3, [&](const std::string& id) { return a.cache().key(id); });
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_TRUE(crossslot("MGET", a.cache().key(ids[0]), a.cache().key(ids[1])));
  for (const auto& id : ids) {
    // The fill and invalidation scripts take the entry and its version: one slot.
    EXPECT_EQ(redis::key_slot(a.cache().version_key(id)), redis::key_slot(a.cache().key(id)));
    rows.rows[id] = "row " + id + " v1";
  }

  for (const auto& id : ids) {
    auto got = a.get(id);
    ASSERT_TRUE(got) << got.error().message() << " " << client_->last_error();
    ASSERT_TRUE(*got);
    EXPECT_EQ(**got, "row " + id + " v1");
  }
  for (const auto& id : ids) {
    EXPECT_EQ(rows.loads[id], 1) << id;
    auto stored = run_co(ctx_, redis::get(*client_, a.cache().key(id)));
    ASSERT_TRUE(stored && *stored) << "the fill did not land for " << id;
  }
  EXPECT_EQ(a.cache().counters().db_loads.load(), 3u);

  // Again: from this instance's near cache; a second instance reads Redis.
  for (const auto& id : ids) EXPECT_EQ(**a.get(id), "row " + id + " v1");
  EXPECT_EQ(a.cache().counters().near_hit.load(), 3u);
  Instance b(ctx_, *client_, rows, cls);
  for (const auto& id : ids) EXPECT_EQ(**b.get(id), "row " + id + " v1");
  EXPECT_EQ(b.cache().counters().redis_hit.load(), 3u);
  for (const auto& id : ids) EXPECT_EQ(rows.loads[id], 1) << id;

  // A write, then its invalidation: the version is bumped and the next read loads the new row.
  for (const auto& id : ids) {
    rows.rows[id] = "row " + id + " v2";
    auto done = a.invalidate(id);
    ASSERT_TRUE(done) << done.error().message() << " " << client_->last_error();
    auto version = run_co(ctx_, redis::get(*client_, a.cache().version_key(id)));
    ASSERT_TRUE(version && *version);
    EXPECT_EQ(**version, "1");
  }
  for (const auto& id : ids) {
    auto got = a.get(id);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, "row " + id + " v2");
    EXPECT_EQ(rows.loads[id], 2) << id;
  }
}

TEST_F(CacheOnCluster, AnInvalidationReachesAnotherInstanceListeningOnAnotherMaster) {
  const std::string cls = unique("cn");
  Rows rows;
  Instance a(ctx_, *client_, rows, cls), b(ctx_, *client_, rows, cls);
  const auto& masters = client_->slot_map().masters();
  ASSERT_NE(masters[0], masters[1]);
  a.listen_on(masters[0]);
  b.listen_on(masters[1]);
  auto ids = on_distinct_masters(3, [&](const std::string& id) { return a.cache().key(id); });
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& id : ids) rows.rows[id] = "row " + id;

  for (const auto& id : ids) {
    ASSERT_TRUE(b.get(id));  // loads
    ASSERT_TRUE(b.get(id));  // b's near cache
  }
  ASSERT_EQ(b.cache().counters().near_hit.load(), 3u);
  for (const auto& id : ids) ASSERT_TRUE(a.invalidate(id));
  // Whichever node took each PUBLISH, the two feeds listen on different masters, so at least
  // one of them hears it only because the cluster forwarded it.
  test::drive(ctx_, [&] {
    return a.cache().counters().invalidations.load() >= 3 &&
           b.cache().counters().invalidations.load() >= 3;
  });
  // The erase is posted to b's worker after the count; a round trip through it orders the two.
  run_co(ctx_, []() -> asio::awaitable<bool> { co_return true; }());
  for (const auto& id : ids) {
    auto got = b.get(id);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(rows.loads[id], 2) << "b's near cache kept " << id;
  }
  EXPECT_EQ(b.cache().counters().near_hit.load(), 3u);
}

TEST_F(CacheOnCluster, BloomFiltersOnDifferentMastersBuildAddAndAnswer) {
  const std::string base = unique("cb");
  // Filters until two keys sit on different masters.
  std::vector<std::unique_ptr<BloomFilter>> filters;
  std::set<std::string> masters;
  for (int n = 0; n < 60 && filters.size() < 2; ++n) {
    auto f = std::make_unique<BloomFilter>(base + "-" + std::to_string(n), 1000, 1e-6);
    if (masters.insert(master_of(f->key())).second) filters.push_back(std::move(f));
  }
  ASSERT_EQ(filters.size(), 2u);
  ASSERT_TRUE(crossslot("MGET", filters[0]->key(), filters[1]->key()));

  std::vector<std::string> items;
  for (int i = 1; i <= 500; ++i) items.push_back("item-" + std::to_string(i));
  for (auto& f : filters) {
    // build() stages the bitmap under a key tagged with the filter's: one slot, whatever the
    // suffix.
    EXPECT_EQ(redis::key_slot("{" + f->key() + "}:staging:1"), redis::key_slot(f->key()));
    auto built = run_co(ctx_, f->build(*client_, items));
    ASSERT_TRUE(built) << built.error().message() << " " << client_->last_error();
    ASSERT_TRUE(f->ready());
    ASSERT_FALSE(f->local_ready()) << "no feed: every answer below comes from Redis";
    for (const char* present : {"item-1", "item-250", "item-500"})
      EXPECT_TRUE(run_co(ctx_, f->might_contain(*client_, present)).value()) << present;
    for (const char* absent : {"item-0", "item-501", "elsewhere"})
      EXPECT_FALSE(run_co(ctx_, f->might_contain(*client_, absent)).value()) << absent;
    ASSERT_TRUE(run_co(ctx_, f->add(*client_, "late")));
    EXPECT_TRUE(run_co(ctx_, f->might_contain(*client_, "late")).value());
    auto st = run_co(ctx_, f->stats(*client_));
    ASSERT_TRUE(st);
    EXPECT_GT(st->bits_set, 0u);
    EXPECT_GT(st->fill_ratio, 0.0);
    EXPECT_LT(st->estimated_fpr, 1e-5);
  }
  std::vector<std::string> keys;
  for (auto& f : filters) keys.push_back(f->key());
  for (const auto& k : keys) EXPECT_EQ(run_co(ctx_, redis::del(*client_, {k})).value(), 1);
}

TEST_F(CacheOnCluster, ReentrantLocksOnDifferentMastersAcquireReenterAndRefuse) {
  LockService locks(*client_);
  const std::string base = unique("cl");
  auto names = on_distinct_masters(
      2, [&](const std::string& n) { return LockService::key(base + "-" + n); });
  ASSERT_EQ(names.size(), 2u);
  for (auto& n : names) n = base + "-" + n;
  ASSERT_TRUE(crossslot("MGET", LockService::key(names[0]), LockService::key(names[1])));
  // The hold count and the fencing counter share the lock's hash tag.
  for (const auto& n : names)
    EXPECT_EQ(redis::key_slot(LockService::key(n) + ":fence"),
              redis::key_slot(LockService::key(n)));

  auto acquire = [&](const std::string& name, const std::string& owner,
                     std::chrono::milliseconds wait) {
    auto r = run_co(ctx_, locks.acquire(name, owner, wait), wait + 5s);
    EXPECT_TRUE(r) << r.error().message() << " " << client_->last_error();
    return r ? *r : std::nullopt;
  };
  auto release = [&](const std::string& name, const std::string& owner) {
    auto r = run_co(ctx_, locks.release(name, owner));
    EXPECT_TRUE(r) << r.error().message() << " " << client_->last_error();
    return r ? *r : std::nullopt;
  };

  std::vector<int64_t> tokens;
  for (const auto& n : names) {
    auto token = acquire(n, "owner-1", 1s);
    ASSERT_TRUE(token) << n;
    EXPECT_EQ(acquire(n, "owner-1", 1s), token) << "re-entry keeps the token";
    tokens.push_back(*token);
  }
  for (const auto& n : names) EXPECT_EQ(acquire(n, "owner-2", 200ms), std::nullopt) << n;
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(release(names[i], "owner-1"), 1);
    EXPECT_EQ(acquire(names[i], "owner-2", 200ms), std::nullopt) << "still held once";
    EXPECT_EQ(release(names[i], "owner-1"), 0);
    EXPECT_EQ(release(names[i], "owner-2"), std::nullopt) << "owner-2 never held it";
    auto next = acquire(names[i], "owner-2", 1s);
    ASSERT_TRUE(next) << names[i];
    EXPECT_GT(*next, tokens[i]);
    EXPECT_EQ(release(names[i], "owner-2"), 0);
  }
  locks.stop();
  std::vector<std::string> keys;
  for (const auto& n : names) {
    keys.push_back(LockService::key(n));
    keys.push_back(LockService::key(n) + ":fence");
  }
  for (const auto& k : keys) run_co(ctx_, redis::del(*client_, {k}));
}

}  // namespace
}  // namespace surge::cache
