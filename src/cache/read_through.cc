// Read-through cache: near cache, Redis, singleflight, distributed rebuild lock, fill wake-ups.
#include "cache/read_through.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cache/lock.h"
#include "common/awaitable.h"
#include "core/cache_math.h"
#include "core/exposition.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::cache {

namespace {
using Steady = std::chrono::steady_clock;

void bump(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// KEYS: item, version. ARGV: the version read before the load ("" = none), the value, the TTL
// in ms (0 = none). Stores only if no invalidation bumped the version since; 1 = stored.
const redis::Script kFill(R"lua(
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
)lua");

// KEYS: item, version. ARGV: the version's TTL in ms, "1" to delete the item. Returns the new
// version. One script, so no fill can land between the delete and the bump.
const redis::Script kInvalidate(R"lua(
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
local v = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return v
)lua");
}  // namespace

// One in-progress load of a key on one worker; later askers wait on `wakeups`.
struct ReadThrough::Flight {
  bool done = false;
  Result<Loaded> result = Loaded();
  std::vector<asio::steady_timer*> wakeups;
};

// Owned by one worker; touched only on its thread.
struct ReadThrough::WorkerState {
  asio::any_io_executor executor;
  redis::Client* redis;
  core::LruCache<std::string> near;
  // Bumped by every invalidation this worker hears of: a Redis reply read before the bump may
  // hold the old value, so it is not stored in the near cache.
  uint64_t epoch = 0;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  // A rebuild waiter. `woken` records a wake-up that arrives while the waiter is not yet parked
  // on its timer (the fill message can overtake the reply of the waiter's own re-read), where a
  // bare cancel() would be lost.
  struct FillWaiter {
    asio::steady_timer timer;
    bool woken = false;
  };
  std::unordered_multimap<std::string, FillWaiter*> fill_waiters;
  std::unordered_set<std::string> refreshing;  // background rebuilds running on this worker
  std::mt19937_64 rng{std::random_device{}()};

  WorkerState(asio::any_io_executor ex, redis::Client* r, size_t capacity)
      : executor(std::move(ex)), redis(r), near(capacity) {}

  void wake(const std::string& key) {
    auto [b, e] = fill_waiters.equal_range(key);
    for (auto it = b; it != e; ++it) {
      it->second->woken = true;
      it->second->timer.cancel();
    }
  }
  void unregister(const std::string& key, FillWaiter* t) {
    auto [b, e] = fill_waiters.equal_range(key);
    for (auto it = b; it != e; ++it) {
      if (it->second == t) {
        fill_waiters.erase(it);
        return;
      }
    }
  }
};

ReadThrough::ReadThrough(ClassOptions options, Loader loader, std::vector<Worker> workers,
                         const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      key_prefix_("cache:" + options_.name + ":"),
      loader_(std::move(loader)) {
  for (auto& w : workers) {
    workers_.push_back(std::make_unique<WorkerState>(w.executor, w.redis, options_.near_capacity));
  }
}

ReadThrough::~ReadThrough() = default;

// Stored forms: "" (null marker) | item JSON | "~<expire_at_ms>:<delta_ms>:" + item JSON. Items
// are JSON objects or arrays, so a leading '~' is unambiguous.
ReadThrough::Entry ReadThrough::parse(std::string raw) {
  Entry e;
  if (raw.empty()) return e;
  if (raw.front() == '~') {
    size_t a = raw.find(':'), b = a == std::string::npos ? a : raw.find(':', a + 1);
    if (b != std::string::npos) {
      std::from_chars(raw.data() + 1, raw.data() + a, e.expire_at_ms);
      std::from_chars(raw.data() + a + 1, raw.data() + b, e.delta_ms);
      raw.erase(0, b + 1);
    }
  }
  e.value = std::move(raw);
  return e;
}

std::string ReadThrough::encode(const Loaded& value, int64_t expire_at_ms, int64_t delta_ms) const {
  if (!value) return std::string();
  if (options_.strategy == Strategy::kMutex) return *value;
  return fmt::format("~{}:{}:", expire_at_ms, delta_ms) + *value;
}

Loaded ReadThrough::serve(WorkerState& ws, const std::string& id, std::string raw) {
  Entry e = parse(std::move(raw));
  if (e.expire_at_ms >= 0 && e.value) {
    bool due = false;
    if (options_.strategy == Strategy::kLogicalExpiry) {
      due = clock_.now_ms() >= e.expire_at_ms;
      if (due) bump(counters_.stale);
    } else if (options_.strategy == Strategy::kEarlyRefresh) {
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      due = core::xfetch_should_refresh(clock_.now_ms(), e.expire_at_ms, e.delta_ms,
                                        options_.xfetch_beta, unit(ws.rng));
    }
    if (due && ws.refreshing.insert(key(id)).second) {
      counters_.refreshes_running.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(ws.executor, refresh(ws, id, e.expire_at_ms), asio::detached);
    }
  }
  return std::move(e.value);
}

void ReadThrough::remember(WorkerState& ws, const std::string& key, const std::string& value,
                           uint64_t epoch) {
  if (options_.near_ttl.count() <= 0 || ws.epoch != epoch) return;
  ws.near.put(key, value, Steady::now() + options_.near_ttl);
}

asio::awaitable<Result<Loaded>> ReadThrough::get(size_t w, std::string id) {
  WorkerState& ws = *workers_.at(w);
  std::string k = key(id);
  if (options_.near_ttl.count() > 0) {
    if (const std::string* v = ws.near.find(k, Steady::now())) {
      bump(counters_.near_hit);
      co_return serve(ws, id, *v);
    }
  }
  // The filter's in-memory copy turns an absent id away before any Redis command.
  if (bloom_ && bloom_->ready()) {
    if (auto here = bloom_->might_contain_here(id); here && !*here) {
      bump(counters_.bloom_reject);
      co_return Loaded();
    }
  }
  uint64_t epoch = ws.epoch;
  auto cached = co_await redis::get(*ws.redis, k);
  if (!cached) co_return cached.error();
  if (*cached) {
    bump((*cached)->empty() ? counters_.null_hit : counters_.redis_hit);
    remember(ws, k, **cached, epoch);
    co_return serve(ws, id, std::move(**cached));
  }
  if (bloom_ && bloom_->ready() && !bloom_->local_ready()) {
    // Without the copy, Redis's bitmap. A Bloom error is not fatal: without an answer the item
    // may exist, so load it.
    auto maybe = co_await bloom_->might_contain(*ws.redis, id);
    if (maybe && !*maybe) {
      bump(counters_.bloom_reject);
      co_return Loaded();
    }
  }
  bump(counters_.miss);

  // Singleflight: the first asker on this worker loads; the rest wait for its result.
  if (auto it = ws.flights.find(k); it != ws.flights.end()) {
    auto flight = it->second;
    asio::steady_timer timer(ws.executor, options_.wait_timeout + options_.lock_ttl);
    flight->wakeups.push_back(&timer);
    co_await timer.async_wait(kTuple);
    std::erase(flight->wakeups, &timer);
    if (!flight->done) co_return make_error_code(Errc::kTimeout);
    co_return flight->result;
  }
  auto flight = std::make_shared<Flight>();
  ws.flights.emplace(k, flight);
  flight->result = co_await rebuild(ws, id);
  flight->done = true;
  ws.flights.erase(k);
  for (auto* t : flight->wakeups) t->cancel();
  co_return flight->result;
}

asio::awaitable<Result<ReadThrough::Fill>> ReadThrough::load_once(
    WorkerState& ws, std::string id, bool replacing, std::optional<std::string> version) {
  std::string k = key(id);
  if (!version) {
    // Read before the load: an invalidation after this point must make the fill fail.
    auto current = co_await redis::get(*ws.redis, version_key(id));
    if (!current) co_return current.error();
    version = current->value_or(std::string());
  }
  bump(counters_.db_loads);
  int64_t started = clock_.now_ms();
  auto loaded = co_await loader_(id);
  if (!loaded) co_return loaded.error();
  int64_t delta = std::max<int64_t>(0, clock_.now_ms() - started);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto ttl = *loaded ? core::jittered_ttl(options_.ttl, options_.jitter, unit(ws.rng))
                     : core::jittered_ttl(options_.null_ttl, options_.jitter, unit(ws.rng));
  std::string stored = encode(*loaded, clock_.now_ms() + ttl.count(), delta);
  // Logical expiry keeps present items without a Redis TTL: they must never go missing.
  bool keep = options_.strategy == Strategy::kLogicalExpiry && loaded->has_value();
  core::Millis redis_ttl = keep ? core::Millis(0) : ttl;
  std::vector<std::string> keys{k, version_key(id)};
  std::vector<std::string> args{std::move(*version), std::move(stored),
                                std::to_string(redis_ttl.count())};
  auto set = co_await ws.redis->run(kFill, std::move(keys), std::move(args));
  auto outcome = redis::to_integer(set);
  Fill fill{std::move(*loaded), outcome && *outcome == 1};
  if (!outcome) {
    // The caller still gets the value; counted so that a store that always fails (a key on the
    // wrong slot, a full Redis) shows as a rate, not as every read quietly going to MariaDB.
    bump(counters_.store_failures);
    spdlog::warn("cache {}: storing {} failed: {}", options_.name, k, outcome.error().message());
  } else if (!fill.stored) {
    bump(counters_.fills_refused);
  }
  // A replacement must reach near caches holding the old value; a first fill wakes waiters (a
  // refused fill too: they re-read, find the key missing and load it themselves).
  // No ?: of strings here: GCC 12 destroys such temporaries twice inside coroutines.
  std::string channel = filled_channel();
  if (replacing) channel = invalidate_channel();
  auto told = co_await redis::publish(*ws.redis, std::move(channel), id);
  (void)told;  // waiters that miss it re-read when their bounded wait ends
  co_return fill;
}

// One background rebuild across all instances: whoever takes the lock reloads; others skip. So
// does a refresh whose lock comes free only after another instance replaced the entry it saw
// (`seen_expiry`): without that check, a reader that saw the old entry just before the other
// rebuild landed would rebuild it a second time in the same period.
asio::awaitable<void> ReadThrough::refresh(WorkerState& ws, std::string id, int64_t seen_expiry) {
  std::string k = key(id);
  auto lease = co_await try_lock(*ws.redis, "lock:" + options_.name + ":" + id, options_.lock_ttl);
  if (lease && *lease) {
    auto current = co_await redis::get(*ws.redis, k);
    bool replaced = current && *current && parse(std::move(**current)).expire_at_ms != seen_expiry;
    if (current && !replaced) {
      bump(counters_.rebuilds);
      auto loaded = co_await load_once(ws, id, true);
      if (!loaded) {
        spdlog::warn("cache {}: background rebuild of {} failed: {}", options_.name, k,
                     loaded.error().message());
      }
    } else {
      bump(counters_.refreshes_skipped);
    }
    co_await unlock(*ws.redis, std::move(**lease));
  } else {
    bump(counters_.refreshes_skipped);
  }
  ws.refreshing.erase(k);
  counters_.refreshes_running.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<Result<Loaded>> ReadThrough::rebuild(WorkerState& ws, std::string id) {
  std::string k = key(id);
  std::string lock_key = "lock:" + options_.name + ":" + id;
  auto deadline = Steady::now() + options_.wait_timeout;
  for (;;) {
    // Registered before the lock attempt and the re-read, so a fill that lands in between
    // still wakes us.
    WorkerState::FillWaiter waiter{asio::steady_timer(ws.executor, deadline)};
    ws.fill_waiters.emplace(k, &waiter);
    auto lease = co_await try_lock(*ws.redis, lock_key, options_.lock_ttl);
    if (!lease) {
      ws.unregister(k, &waiter);
      co_return lease.error();
    }
    uint64_t epoch = ws.epoch;
    if (*lease) {
      ws.unregister(k, &waiter);
      // Someone may have filled the key between our miss and our lock.
      auto again = co_await redis::get(*ws.redis, k);
      Result<Loaded> result = Loaded();
      if (again && *again) {
        result = serve(ws, id, std::move(**again));
      } else {
        auto fill = co_await load_once(ws, id, false);
        if (!fill) {
          result = fill.error();
        } else {
          // Under kMutex the stored form is the item itself, so it can go straight to the near
          // cache; the other strategies' entries carry metadata and are cached on the next
          // read. A refused fill holds a value an invalidation has overtaken: never cached.
          if (fill->stored && fill->value && options_.strategy == Strategy::kMutex) {
            remember(ws, k, *fill->value, epoch);
          }
          result = std::move(fill->value);
        }
      }
      auto released = co_await unlock(*ws.redis, std::move(**lease));
      if (!released || !*released) {
        spdlog::warn("cache {}: lock {} expired before its rebuild finished", options_.name,
                     lock_key);
      }
      co_return result;
    }
    bump(counters_.lock_waits);
    auto now_there = co_await redis::get(*ws.redis, k);
    if (now_there && *now_there) {
      ws.unregister(k, &waiter);
      co_return serve(ws, id, std::move(**now_there));
    }
    if (!waiter.woken) {
      co_await waiter.timer.async_wait(kTuple);  // cancelled by a "filled" message, or the deadline
    }
    ws.unregister(k, &waiter);
    auto after = co_await redis::get(*ws.redis, k);
    if (!after) co_return after.error();
    if (*after) {
      remember(ws, k, **after, epoch);
      co_return serve(ws, id, std::move(**after));
    }
    if (Steady::now() >= deadline) {
      bump(counters_.wait_timeouts);
      co_return make_error_code(Errc::kTimeout);
    }
    // Woken but still missing: the holder failed to load. Compete for the lock again.
  }
}

asio::awaitable<Result<void>> ReadThrough::invalidate(size_t w, std::string id) {
  WorkerState& ws = *workers_.at(w);
  std::string k = key(id);
  ws.near.erase(k);
  ++ws.epoch;
  // Logical expiry keeps the entry (the key never goes missing) and rewrites it below; the
  // version bump still stops any load that began before this point from storing.
  bool rewrite = options_.strategy == Strategy::kLogicalExpiry;
  std::string drop = "1";
  if (rewrite) drop = "0";
  std::vector<std::string> keys{k, version_key(id)};
  std::vector<std::string> args{std::to_string(options_.version_ttl.count()), std::move(drop)};
  auto bumped = co_await ws.redis->run(kInvalidate, std::move(keys), std::move(args));
  auto version = redis::to_integer(bumped);
  if (!version) co_return version.error();
  if (rewrite) {
    // Rewrite in place under the new version (which also tells every near cache).
    auto rewritten = co_await load_once(ws, id, true, std::to_string(*version));
    if (!rewritten) co_return rewritten.error();
    co_return Result<void>{};
  }
  auto told = co_await redis::publish(*ws.redis, invalidate_channel(), id);
  if (!told) co_return told.error();
  co_return Result<void>{};
}

void ReadThrough::on_message(const std::string& channel, const std::string& id) {
  bool invalidation = channel == invalidate_channel();
  if (!invalidation && channel != filled_channel()) return;
  if (invalidation) bump(counters_.invalidations);
  if (invalidation && id == kEveryKey) {
    clear_near_caches();
    return;
  }
  std::string k = key(id);
  for (auto& w : workers_) {
    asio::post(w->executor, [ws = w.get(), k, invalidation] {
      if (invalidation) {
        ws->near.erase(k);
        ++ws->epoch;
      } else {
        ws->wake(k);
      }
    });
  }
}

void ReadThrough::on_feed_state(bool connected) {
  if (connected) return;
  // Invalidations may be lost while the feed is down: nothing in a near cache can be trusted.
  bump(counters_.near_flushes);
  clear_near_caches();
}

void ReadThrough::clear_near_caches() {
  for (auto& w : workers_) {
    asio::post(w->executor, [ws = w.get()] {
      ws->near.clear();
      ++ws->epoch;
    });
  }
}

void ReadThrough::render_metrics(std::string& out, const std::vector<const ReadThrough*>& caches) {
  using Field = const std::atomic<uint64_t> CacheCounters::*;
  const std::pair<const char*, Field> results[] = {
      {"near_hit", &CacheCounters::near_hit},         {"redis_hit", &CacheCounters::redis_hit},
      {"null_hit", &CacheCounters::null_hit},         {"miss", &CacheCounters::miss},
      {"bloom_reject", &CacheCounters::bloom_reject}, {"stale", &CacheCounters::stale}};
  struct Total {
    const char* name;
    Field field;
    const char* help;
  };
  const Total totals[] = {
      {"surge_cache_db_loads_total", &CacheCounters::db_loads, "Values loaded from MariaDB."},
      {"surge_cache_lock_waits_total", &CacheCounters::lock_waits,
       "Misses that waited for another loader's fill."},
      {"surge_cache_wait_timeouts_total", &CacheCounters::wait_timeouts,
       "Waits for a fill that ran out of time (answered 503)."},
      {"surge_cache_invalidations_total", &CacheCounters::invalidations,
       "Invalidations this instance received on its feed (flushes of the class included)."},
      {"surge_cache_near_flushes_total", &CacheCounters::near_flushes,
       "Near caches flushed because the invalidation feed dropped."},
      {"surge_cache_rebuilds_total", &CacheCounters::rebuilds,
       "Background rebuilds (logical expiry, early refresh)."},
      {"surge_cache_fills_refused_total", &CacheCounters::fills_refused,
       "Fills not stored because an invalidation overtook their load."},
      {"surge_cache_refreshes_skipped_total", &CacheCounters::refreshes_skipped,
       "Background refreshes left to another instance (its lock, or its entry already new)."},
      {"surge_cache_store_failures_total", &CacheCounters::store_failures,
       "Loaded values that Redis refused or never acknowledged storing (answered, not cached)."}};
  auto value = [](const ReadThrough* c, Field f) {
    return (c->counters_.*f).load(std::memory_order_relaxed);
  };
  core::Exposition e(out);
  e.family("surge_cache_requests_total", "counter", "Cache lookups by key class and result.");
  for (const auto* c : caches) {
    for (const auto& [name, f] : results) {
      e.sample("surge_cache_requests_total",
               fmt::format("class=\"{}\",result=\"{}\"", c->options_.name, name), value(c, f));
    }
  }
  for (const auto& t : totals) {
    e.family(t.name, "counter", t.help);
    for (const auto* c : caches) {
      e.sample(t.name, fmt::format("class=\"{}\"", c->options_.name), value(c, t.field));
    }
  }
  e.family("surge_cache_refreshes_running", "gauge", "Background refreshes in progress.");
  for (const auto* c : caches) {
    e.sample("surge_cache_refreshes_running", fmt::format("class=\"{}\"", c->options_.name),
             static_cast<uint64_t>(std::max<int64_t>(
                 0, c->counters_.refreshes_running.load(std::memory_order_relaxed))));
  }
}

}  // namespace surge::cache
