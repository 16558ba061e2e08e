// A read-through cache for one key class (e.g. shops): per-worker near cache → Redis → loader,
// built to keep the database safe under spikes:
//   - penetration: absent items are cached as a short-lived null marker ("");
//   - avalanche: every TTL is jittered (±5% by default) so keys written together expire apart;
//   - breakdown: one load per key per worker (singleflight), and one across all workers and
//     instances (an owner-token Redis lock); waiters are woken by a pub/sub "filled" message the
//     moment the value lands, and give up with Errc::kTimeout after a bounded wait;
//   - stale sets: every key has a version that each invalidation bumps (atomically with its DEL);
//     a fill is stored only if the version is still the one read before its load began, so a
//     load that read the old row cannot put it back after a writer's invalidation.
// Near caches of every instance drop a key when any instance invalidates it (pub/sub), refuse to
// store a reply that an invalidation may have overtaken, and empty themselves whenever the
// invalidation feed is lost.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cache/bloom.h"
#include "common/clock.h"
#include "core/lru_cache.h"
#include "redis/client.h"

namespace surge::cache {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// How a key class treats expiry (configuration per class):
//   kMutex: Redis TTL; a miss rebuilds under the lock while askers wait (the default).
//   kLogicalExpiry: no Redis TTL; the value carries its own expiry, and an expired value is still
//     served while exactly one background rebuild runs. A missing key loads synchronously, and
//     invalidate() rewrites the entry instead of deleting it.
//   kEarlyRefresh: Redis TTL, plus XFetch: each read refreshes in the background with a
//     probability that rises as expiry nears, scaled by the measured rebuild time.
enum class Strategy { kMutex, kLogicalExpiry, kEarlyRefresh };

struct ClassOptions {
  std::string name = "shop";  // keys cache:<name>:<id>, lock:<name>:<id>; metrics label
  Strategy strategy = Strategy::kMutex;
  double xfetch_beta = 1.0;
  std::chrono::milliseconds ttl = 30min;
  double jitter = 0.05;
  std::chrono::milliseconds null_ttl = 2min;
  std::chrono::milliseconds lock_ttl = 10s;
  std::chrono::milliseconds wait_timeout = 3s;  // a waiter's patience for a rebuild elsewhere
  std::chrono::milliseconds near_ttl = 10s;     // 0 disables the near cache
  size_t near_capacity = 100000;                // per worker
  // How long a key's version outlives its last invalidation. A fill compares versions, so this
  // must exceed the longest load: a version that expired and came back during one load could
  // let that load's stale value through.
  std::chrono::milliseconds version_ttl = 1h;
};

// The serialised item, or nullopt when the source of truth has no such item.
using Loaded = std::optional<std::string>;
using Loader = std::function<asio::awaitable<Result<Loaded>>(std::string id)>;

struct CacheCounters {
  std::atomic<uint64_t> near_hit{0}, redis_hit{0}, null_hit{0}, miss{0}, db_loads{0}, lock_waits{0},
      wait_timeouts{0}, invalidations{0}, near_flushes{0}, bloom_reject{0}, stale{0}, rebuilds{0},
      fills_refused{0}, refreshes_skipped{0}, store_failures{0};
  // A gauge: background refreshes started and not yet ended (each ends as a rebuild or a skip).
  std::atomic<int64_t> refreshes_running{0};
};

// Thread-safe in the sense that each worker calls get()/invalidate() with its own index on its
// own thread; per-worker state is only touched there. The workers' executors and Redis
// connections, and the clock, must outlive this object. The clock gives the logical expiry
// written into entries (compared by every instance, so wall-clock time), XFetch's "now" and the
// measured rebuild time; the near cache's TTL and the bounded waits stay on the steady clock
// (process-local, and real waits).
class ReadThrough {
 public:
  struct Worker {
    asio::any_io_executor executor;
    redis::Client* redis;
  };

  ReadThrough(ClassOptions options, Loader loader, std::vector<Worker> workers, const Clock& clock);
  ~ReadThrough();

  const ClassOptions& options() const { return options_; }
  std::string key(std::string_view id) const { return key_prefix_ + std::string(id); }
  // The key's version: bumped by each invalidation, compared by each fill. Its hash tag is the
  // entry's whole key, so the two share a slot and the fill and invalidation scripts that take
  // both run on a cluster.
  std::string version_key(std::string_view id) const { return "cachever:{" + key(id) + "}"; }
  // Published on the invalidation channel instead of an id: every key of the class (a flush).
  static constexpr std::string_view kEveryKey = "*";
  std::string filled_channel() const { return "cache:filled:" + options_.name; }
  std::string invalidate_channel() const { return "cache:invalidate:" + options_.name; }

  // On worker `w`'s thread. Errors: kUnavailable (Redis or the DB down), kTimeout (a rebuild
  // elsewhere did not land within wait_timeout), or the loader's error.
  asio::awaitable<Result<Loaded>> get(size_t w, std::string id);
  // Deletes the Redis entry and tells every instance's near caches (after a write to the DB).
  asio::awaitable<Result<void>> invalidate(size_t w, std::string id);

  // Feed from the process's subscriber connection (any thread): a channel message, or the
  // subscriber's connection state (false = messages may have been missed).
  void on_message(const std::string& channel, const std::string& id);
  void on_feed_state(bool connected);

  // Consulted on a Redis miss once the filter reports ready; must outlive this object.
  void set_bloom(const BloomFilter* bloom) { bloom_ = bloom; }

  const CacheCounters& counters() const { return counters_; }
  // Prometheus text for several key classes at once.
  static void render_metrics(std::string& out, const std::vector<const ReadThrough*>& caches);

 private:
  struct Flight;
  struct WorkerState;
  // A stored value: the item (or nullopt for the null marker) and, for the logical-expiry and
  // early-refresh strategies, its own expiry and the time its last rebuild took.
  struct Entry {
    Loaded value;
    int64_t expire_at_ms = -1;  // -1: no expiry recorded
    int64_t delta_ms = 0;
  };
  static Entry parse(std::string raw);
  std::string encode(const Loaded& value, int64_t expire_at_ms, int64_t delta_ms) const;

  // A load and whether its value reached Redis (false: an invalidation came first).
  struct Fill {
    Loaded value;
    bool stored = false;
  };
  // Loads and stores unless the key's version differs from `version` (read here first when not
  // given). `replacing` tells near caches to drop the old value instead of waking waiters.
  asio::awaitable<Result<Fill>> load_once(WorkerState& ws, std::string id, bool replacing,
                                          std::optional<std::string> version = std::nullopt);
  asio::awaitable<Result<Loaded>> rebuild(WorkerState& ws, std::string id);
  asio::awaitable<void> refresh(WorkerState& ws, std::string id, int64_t seen_expiry);
  Loaded serve(WorkerState& ws, const std::string& id, std::string raw);
  // Empties every worker's near cache (on its own thread) and refuses replies read before.
  void clear_near_caches();
  void remember(WorkerState& ws, const std::string& key, const std::string& value, uint64_t epoch);

  ClassOptions options_;
  const Clock& clock_;
  std::string key_prefix_;
  Loader loader_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  CacheCounters counters_;
  const BloomFilter* bloom_ = nullptr;
};

}  // namespace surge::cache
