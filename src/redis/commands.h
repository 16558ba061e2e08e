// Typed helpers over a Client for the commands Surge uses: each sends one keyed request (so it
// runs on a single node or a cluster alike) and returns the reply already in C++ shape; a Redis
// error reply becomes Errc::kServerError (logged), a reply of an unexpected shape Errc::kProtocol.
// Arguments are taken by value: they are coroutine parameters.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "redis/client.h"
#include "redis/connection.h"

namespace surge::redis {

using Millis = std::chrono::milliseconds;
using FieldValues = std::vector<std::pair<std::string, std::string>>;

// Reply shape converters (also behind the typed pipelines in redis/pipeline.h).
Result<void> expect_ok(const Result<Reply>& r);
Result<int64_t> to_integer(const Result<Reply>& r);
Result<std::optional<std::string>> to_optional_string(const Result<Reply>& r);
Result<std::vector<std::string>> to_string_list(const Result<Reply>& r);
Result<FieldValues> to_pairs(const Result<Reply>& r);  // flat [k1, v1, k2, v2, ...]
// Members with their scores (ZRANGE ... WITHSCORES, flat [m1, s1, m2, s2, ...]).
using ScoredMembers = std::vector<std::pair<std::string, double>>;
Result<ScoredMembers> to_scored(const Result<Reply>& r);
// An array of integers (BITFIELD GET ...).
Result<std::vector<int64_t>> to_integers(const Result<Reply>& r);

// Liveness: success when the server answers PING with a status.
asio::awaitable<Result<void>> ping(Client& c);

// Strings and keys.
asio::awaitable<Result<std::optional<std::string>>> get(Client& c, std::string key);
// ttl 0 = no expiry. Returns false when NX/XX prevented the write.
asio::awaitable<Result<bool>> set(Client& c, std::string key, std::string value,
                                  Millis ttl = Millis(0), bool only_if_absent = false);
// One DEL per key (keys may live on different nodes); the number deleted.
asio::awaitable<Result<int64_t>> del(Client& c, std::vector<std::string> keys);
asio::awaitable<Result<int64_t>> incr_by(Client& c, std::string key, int64_t by = 1);
asio::awaitable<Result<bool>> pexpire(Client& c, std::string key, Millis ttl);
asio::awaitable<Result<int64_t>> pttl(Client& c, std::string key);

// Hashes.
asio::awaitable<Result<int64_t>> hset(Client& c, std::string key, FieldValues fields);
asio::awaitable<Result<FieldValues>> hgetall(Client& c, std::string key);
asio::awaitable<Result<std::optional<std::string>>> hget(Client& c, std::string key,
                                                         std::string field);

// Sets.
asio::awaitable<Result<int64_t>> sadd(Client& c, std::string key, std::vector<std::string> members);
asio::awaitable<Result<int64_t>> srem(Client& c, std::string key, std::vector<std::string> members);
asio::awaitable<Result<std::vector<std::string>>> smembers(Client& c, std::string key);
asio::awaitable<Result<bool>> sismember(Client& c, std::string key, std::string member);

// Sorted sets.
asio::awaitable<Result<int64_t>> zadd(Client& c, std::string key, double score, std::string member);
asio::awaitable<Result<int64_t>> zrem(Client& c, std::string key, std::string member);
asio::awaitable<Result<std::optional<double>>> zscore(Client& c, std::string key,
                                                      std::string member);
asio::awaitable<Result<std::vector<std::string>>> zrange(Client& c, std::string key, int64_t start,
                                                         int64_t stop);

// Geo.
struct GeoMember {
  std::string member;
  double lon;
  double lat;
};
struct GeoHit {
  std::string member;
  double distance_m;
};
asio::awaitable<Result<int64_t>> geoadd(Client& c, std::string key, std::vector<GeoMember> members);
// GEOSEARCH key FROMLONLAT lon lat BYRADIUS r m ASC COUNT n WITHDIST.
asio::awaitable<Result<std::vector<GeoHit>>> geosearch(Client& c, std::string key, double lon,
                                                       double lat, double radius_m, int64_t count);

// Streams.
struct StreamEntry {
  std::string id;
  FieldValues fields;
  // The value of the first field called `name`, empty when there is none.
  std::string_view field(std::string_view name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return v;
    }
    return {};
  }
};
// One entry of an XRANGE / XREVRANGE / XREADGROUP reply: [id, [f1, v1, ...]].
Result<StreamEntry> to_stream_entry(const Reply& r);
asio::awaitable<Result<std::string>> xadd(Client& c, std::string key, FieldValues fields);
// Creates the group (and the stream) if missing; an existing group is success.
asio::awaitable<Result<void>> xgroup_create(Client& c, std::string key, std::string group,
                                            std::string start_id = "0");
// The stream commands as keyed requests and their reply parsers, for callers that batch them
// (the functions below are built from them).
Request xgroup_create_request(std::string key, std::string group, std::string start_id = "0");
Result<void> xgroup_created(const Result<Reply>& r);  // BUSYGROUP (exists already) is success
Request xreadgroup_request(std::string group, std::string consumer, std::string key, std::string id,
                           int64_t count, std::optional<Millis> block);
Result<std::vector<StreamEntry>> xreadgroup_entries(const Result<Reply>& r);
Request xautoclaim_request(std::string key, std::string group, std::string consumer,
                           Millis min_idle, std::string start, int64_t count);
Result<std::pair<std::string, std::vector<StreamEntry>>> xautoclaim_entries(const Result<Reply>& r);
// XREADGROUP GROUP g consumer COUNT n [BLOCK ms] STREAMS key id. Use a dedicated client when
// blocking: the request timeout must exceed `block`.
asio::awaitable<Result<std::vector<StreamEntry>>> xreadgroup(Client& c, std::string group,
                                                             std::string consumer, std::string key,
                                                             std::string id, int64_t count,
                                                             std::optional<Millis> block);
asio::awaitable<Result<int64_t>> xack(Client& c, std::string key, std::string group,
                                      std::vector<std::string> ids);
// XAUTOCLAIM key group consumer min-idle start COUNT n → (next start id, claimed entries).
asio::awaitable<Result<std::pair<std::string, std::vector<StreamEntry>>>> xautoclaim(
    Client& c, std::string key, std::string group, std::string consumer, Millis min_idle,
    std::string start, int64_t count);
struct PendingEntry {
  std::string id;
  std::string consumer;
  int64_t idle_ms;
  int64_t deliveries;
};
// One consumer group's backlog in an XINFO GROUPS reply: entries not yet delivered to it (lag)
// and delivered but not acknowledged (pending); nullopt when the stream has no such group.
struct GroupBacklog {
  int64_t unread = 0;
  int64_t pending = 0;
};
std::optional<GroupBacklog> group_backlog(const Reply& groups, std::string_view group);
// XPENDING key group - + count: the oldest pending entries with their delivery counts.
asio::awaitable<Result<std::vector<PendingEntry>>> xpending(Client& c, std::string key,
                                                            std::string group, int64_t count);

// Pub/sub and client-side caching.
asio::awaitable<Result<int64_t>> publish(Client& c, std::string channel, std::string message);

}  // namespace surge::redis
