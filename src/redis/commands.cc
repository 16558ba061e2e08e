// Typed command helpers: build the command, send it, convert the reply's shape.
#include "redis/commands.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "redis/pipeline.h"

namespace surge::redis {

namespace {

// Redis errors are answers, not transport failures; callers of typed helpers want them as errors.
// A server that is still loading its data after a restart, busy in a script, or (on a cluster)
// between masters answers an error too, but one that goes away by itself: callers see those as
// kUnavailable (503, retry), like a lost connection, not as a failed command.
error_code reply_error(const Reply& r) {
  for (std::string_view transient :
       {"LOADING", "BUSY ", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"}) {
    if (r.str.starts_with(transient)) {
      spdlog::warn("redis: not available yet: {}", r.str);
      return Errc::kUnavailable;
    }
  }
  spdlog::warn("redis: command failed: {}", r.str);
  return Errc::kServerError;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Request with_list(std::string_view verb, std::string key, std::vector<std::string> rest) {
  auto r = Request::keyed(1, verb, key);
  r.args.reserve(2 + rest.size());
  for (auto& v : rest) r.args.push_back(std::move(v));
  return r;
}

// Result<bool> cannot be built implicitly from an error_code (both convert to bool).
Result<bool> bool_error(error_code ec) { return {boost::system::in_place_error, ec}; }

}  // namespace

Result<void> expect_ok(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  return {};
}

Result<int64_t> to_integer(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  auto v = r->as_integer();
  if (!v) return Errc::kProtocol;
  return *v;
}

Result<std::optional<std::string>> to_optional_string(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  if (r->is_nil()) return std::optional<std::string>();
  if (!r->is_string()) return Errc::kProtocol;
  return std::optional<std::string>(r->str);
}

namespace {

// An array of strings, integers (as text) and nils.
Result<std::vector<std::optional<std::string>>> to_optional_list(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  if (r->is_nil()) return std::vector<std::optional<std::string>>();
  if (!r->is_array()) return Errc::kProtocol;
  std::vector<std::optional<std::string>> out;
  out.reserve(r->elements.size());
  for (const auto& e : r->elements) {
    if (e.is_nil()) {
      out.emplace_back();
    } else if (e.is_string()) {
      out.emplace_back(e.str);
    } else if (e.type == Reply::Type::kInteger) {
      out.emplace_back(std::to_string(e.integer));
    } else {
      return Errc::kProtocol;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> to_string_list(const Result<Reply>& r) {
  auto list = to_optional_list(r);
  if (!list) return list.error();
  std::vector<std::string> out;
  out.reserve(list->size());
  for (auto& v : *list) {
    if (!v) return Errc::kProtocol;
    out.push_back(std::move(*v));
  }
  return out;
}

Result<FieldValues> to_pairs(const Result<Reply>& r) {
  auto flat = to_string_list(r);
  if (!flat) return flat.error();
  if (flat->size() % 2 != 0) return Errc::kProtocol;
  FieldValues out;
  out.reserve(flat->size() / 2);
  for (size_t i = 0; i < flat->size(); i += 2) {
    out.emplace_back(std::move((*flat)[i]), std::move((*flat)[i + 1]));
  }
  return out;
}

Result<ScoredMembers> to_scored(const Result<Reply>& r) {
  auto flat = to_pairs(r);
  if (!flat) return flat.error();
  ScoredMembers out;
  out.reserve(flat->size());
  for (auto& [member, score] : *flat) {
    auto v = parse_double(score);
    if (!v) return Errc::kProtocol;
    out.emplace_back(std::move(member), *v);
  }
  return out;
}

Result<std::vector<int64_t>> to_integers(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  if (!r->is_array()) return Errc::kProtocol;
  std::vector<int64_t> out;
  out.reserve(r->elements.size());
  for (const auto& e : r->elements) {
    auto v = e.as_integer();
    if (!v) return Errc::kProtocol;
    out.push_back(*v);
  }
  return out;
}

Result<StreamEntry> to_stream_entry(const Reply& r) {
  if (!r.is_array() || r.elements.size() != 2 || !r.elements[0].is_string()) {
    return Errc::kProtocol;
  }
  StreamEntry e;
  e.id = r.elements[0].str;
  // A claimed entry that was deleted from the stream comes back with nil fields.
  if (r.elements[1].is_nil()) return e;
  auto fields = to_pairs(Result<Reply>(r.elements[1]));
  if (!fields) return fields.error();
  e.fields = std::move(*fields);
  return e;
}

asio::awaitable<Result<void>> ping(Client& c) {
  auto pong = co_await c.exec(Request::keyed(Request::kNoKey, "PING"));
  if (!pong) co_return pong.error();
  if (!pong->is_string()) co_return make_error_code(Errc::kProtocol);
  co_return Result<void>();
}

asio::awaitable<Result<std::optional<std::string>>> get(Client& c, std::string key) {
  co_return to_optional_string(co_await c.exec(Request::keyed(1, "GET", key)));
}

asio::awaitable<Result<bool>> set(Client& c, std::string key, std::string value, Millis ttl,
                                  bool only_if_absent) {
  auto req = Request::keyed(1, "SET", key, value);
  if (ttl.count() > 0) req.add("PX", static_cast<int64_t>(ttl.count()));
  if (only_if_absent) req.add("NX");
  auto r = co_await c.exec(std::move(req));
  if (!r) co_return bool_error(r.error());
  if (r->is_error()) co_return bool_error(reply_error(*r));
  co_return !r->is_nil();
}

asio::awaitable<Result<int64_t>> del(Client& c, std::vector<std::string> keys) {
  std::vector<Request> each;
  each.reserve(keys.size());
  for (auto& k : keys) each.push_back(Request::keyed(1, "DEL", k));
  auto deleted = co_await exec_each<int64_t>(c, std::move(each));
  if (!deleted) co_return deleted.error();
  int64_t n = 0;
  for (auto d : *deleted) n += d;
  co_return n;
}

asio::awaitable<Result<int64_t>> incr_by(Client& c, std::string key, int64_t by) {
  co_return to_integer(co_await c.exec(Request::keyed(1, "INCRBY", key, by)));
}

asio::awaitable<Result<bool>> pexpire(Client& c, std::string key, Millis ttl) {
  auto n = to_integer(
      co_await c.exec(Request::keyed(1, "PEXPIRE", key, static_cast<int64_t>(ttl.count()))));
  if (!n) co_return bool_error(n.error());
  co_return *n == 1;
}

asio::awaitable<Result<int64_t>> pttl(Client& c, std::string key) {
  co_return to_integer(co_await c.exec(Request::keyed(1, "PTTL", key)));
}

asio::awaitable<Result<int64_t>> hset(Client& c, std::string key, FieldValues fields) {
  auto req = Request::keyed(1, "HSET", key);
  for (const auto& [f, v] : fields) req.add(f, v);
  co_return to_integer(co_await c.exec(std::move(req)));
}

asio::awaitable<Result<std::optional<std::string>>> hget(Client& c, std::string key,
                                                         std::string field) {
  co_return to_optional_string(co_await c.exec(Request::keyed(1, "HGET", key, field)));
}

asio::awaitable<Result<std::vector<std::string>>> smembers(Client& c, std::string key) {
  co_return to_string_list(co_await c.exec(Request::keyed(1, "SMEMBERS", key)));
}

asio::awaitable<Result<FieldValues>> hgetall(Client& c, std::string key) {
  co_return to_pairs(co_await c.exec(Request::keyed(1, "HGETALL", key)));
}

asio::awaitable<Result<int64_t>> sadd(Client& c, std::string key,
                                      std::vector<std::string> members) {
  co_return to_integer(co_await c.exec(with_list("SADD", std::move(key), std::move(members))));
}

asio::awaitable<Result<int64_t>> srem(Client& c, std::string key,
                                      std::vector<std::string> members) {
  co_return to_integer(co_await c.exec(with_list("SREM", std::move(key), std::move(members))));
}

asio::awaitable<Result<bool>> sismember(Client& c, std::string key, std::string member) {
  auto n = to_integer(co_await c.exec(Request::keyed(1, "SISMEMBER", key, member)));
  if (!n) co_return bool_error(n.error());
  co_return *n == 1;
}

asio::awaitable<Result<int64_t>> zadd(Client& c, std::string key, double score,
                                      std::string member) {
  co_return to_integer(co_await c.exec(Request::keyed(1, "ZADD", key, score, member)));
}

asio::awaitable<Result<int64_t>> zrem(Client& c, std::string key, std::string member) {
  co_return to_integer(co_await c.exec(Request::keyed(1, "ZREM", key, member)));
}

asio::awaitable<Result<std::optional<double>>> zscore(Client& c, std::string key,
                                                      std::string member) {
  auto s = to_optional_string(co_await c.exec(Request::keyed(1, "ZSCORE", key, member)));
  if (!s) co_return s.error();
  if (!*s) co_return std::optional<double>();
  auto v = parse_double(**s);
  if (!v) co_return make_error_code(Errc::kProtocol);
  co_return v;
}

asio::awaitable<Result<std::vector<std::string>>> zrange(Client& c, std::string key, int64_t start,
                                                         int64_t stop) {
  co_return to_string_list(co_await c.exec(Request::keyed(1, "ZRANGE", key, start, stop)));
}

asio::awaitable<Result<int64_t>> geoadd(Client& c, std::string key,
                                        std::vector<GeoMember> members) {
  auto req = Request::keyed(1, "GEOADD", key);
  req.args.reserve(2 + 3 * members.size());
  for (const auto& m : members) req.add(m.lon, m.lat, m.member);
  co_return to_integer(co_await c.exec(std::move(req)));
}

asio::awaitable<Result<std::vector<GeoHit>>> geosearch(Client& c, std::string key, double lon,
                                                       double lat, double radius_m, int64_t count) {
  auto req = Request::keyed(1, "GEOSEARCH", key, "FROMLONLAT", lon, lat, "BYRADIUS", radius_m, "m",
                            "ASC", "COUNT", count, "WITHDIST");
  auto r = co_await c.exec(std::move(req));
  if (!r) co_return r.error();
  if (r->is_error()) co_return reply_error(*r);
  if (!r->is_array()) co_return make_error_code(Errc::kProtocol);
  std::vector<GeoHit> out;
  out.reserve(r->elements.size());
  for (const auto& e : r->elements) {
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[0].is_string()) {
      co_return make_error_code(Errc::kProtocol);
    }
    auto d = parse_double(e.elements[1].str);
    if (!d) co_return make_error_code(Errc::kProtocol);
    out.push_back({e.elements[0].str, *d});
  }
  co_return out;
}

asio::awaitable<Result<std::string>> xadd(Client& c, std::string key, FieldValues fields) {
  auto req = Request::keyed(1, "XADD", key, "*");
  for (const auto& [f, v] : fields) req.add(f, v);
  auto s = to_optional_string(co_await c.exec(std::move(req)));
  if (!s) co_return s.error();
  if (!*s) co_return make_error_code(Errc::kProtocol);
  co_return std::move(**s);
}

Request xgroup_create_request(std::string key, std::string group, std::string start_id) {
  return Request::keyed(2, "XGROUP", "CREATE", key, group, start_id, "MKSTREAM");
}

Result<void> xgroup_created(const Result<Reply>& r) {
  if (r && r->is_error() && r->str.starts_with("BUSYGROUP")) return Result<void>{};
  return expect_ok(r);
}

asio::awaitable<Result<void>> xgroup_create(Client& c, std::string key, std::string group,
                                            std::string start_id) {
  auto req = xgroup_create_request(std::move(key), std::move(group), std::move(start_id));
  co_return xgroup_created(co_await c.exec(std::move(req)));
}

namespace {
Result<std::vector<StreamEntry>> to_entries(const Reply& list) {
  if (list.is_nil()) return std::vector<StreamEntry>();
  if (!list.is_array()) return Errc::kProtocol;
  std::vector<StreamEntry> out;
  out.reserve(list.elements.size());
  for (const auto& e : list.elements) {
    auto entry = to_stream_entry(e);
    if (!entry) return entry.error();
    out.push_back(std::move(*entry));
  }
  return out;
}
}  // namespace

Request xreadgroup_request(std::string group, std::string consumer, std::string key, std::string id,
                           int64_t count, std::optional<Millis> block) {
  Request r;
  r.args = {"XREADGROUP",        "GROUP", std::move(group),
            std::move(consumer), "COUNT", std::to_string(count)};
  if (block) {
    r.args.push_back("BLOCK");
    r.args.push_back(std::to_string(block->count()));
  }
  r.args.push_back("STREAMS");
  r.key_index = r.args.size();
  r.args.push_back(std::move(key));
  r.args.push_back(std::move(id));
  return r;
}

Result<std::vector<StreamEntry>> xreadgroup_entries(const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  if (r->is_nil()) return std::vector<StreamEntry>();  // BLOCK timed out
  // [[key, [entries...]]]
  if (!r->is_array() || r->elements.size() != 1 || !r->elements[0].is_array() ||
      r->elements[0].elements.size() != 2) {
    return make_error_code(Errc::kProtocol);
  }
  return to_entries(r->elements[0].elements[1]);
}

asio::awaitable<Result<std::vector<StreamEntry>>> xreadgroup(Client& c, std::string group,
                                                             std::string consumer, std::string key,
                                                             std::string id, int64_t count,
                                                             std::optional<Millis> block) {
  auto req = xreadgroup_request(std::move(group), std::move(consumer), std::move(key),
                                std::move(id), count, block);
  co_return xreadgroup_entries(co_await c.exec(std::move(req)));
}

asio::awaitable<Result<int64_t>> xack(Client& c, std::string key, std::string group,
                                      std::vector<std::string> ids) {
  auto req = Request::keyed(1, "XACK", key, group);
  for (const auto& id : ids) req.add(id);
  co_return to_integer(co_await c.exec(std::move(req)));
}

Request xautoclaim_request(std::string key, std::string group, std::string consumer,
                           Millis min_idle, std::string start, int64_t count) {
  return Request::keyed(1, "XAUTOCLAIM", key, group, consumer,
                        static_cast<int64_t>(min_idle.count()), start, "COUNT", count);
}

Result<std::pair<std::string, std::vector<StreamEntry>>> xautoclaim_entries(
    const Result<Reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) return reply_error(*r);
  // Redis 7: [next-start, [entries], [deleted ids]]
  if (!r->is_array() || r->elements.size() < 2 || !r->elements[0].is_string()) {
    return make_error_code(Errc::kProtocol);
  }
  auto entries = to_entries(r->elements[1]);
  if (!entries) return entries.error();
  return std::pair{r->elements[0].str, std::move(*entries)};
}

asio::awaitable<Result<std::pair<std::string, std::vector<StreamEntry>>>> xautoclaim(
    Client& c, std::string key, std::string group, std::string consumer, Millis min_idle,
    std::string start, int64_t count) {
  auto req = xautoclaim_request(std::move(key), std::move(group), std::move(consumer), min_idle,
                                std::move(start), count);
  co_return xautoclaim_entries(co_await c.exec(std::move(req)));
}

std::optional<GroupBacklog> group_backlog(const Reply& groups, std::string_view group) {
  if (!groups.is_array()) return std::nullopt;
  for (const auto& g : groups.elements) {
    if (!g.is_array()) continue;
    bool ours = false;
    GroupBacklog b;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& k = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (k == "name") ours = v.str == group;
      if (k == "pending") b.pending = v.as_integer().value_or(0);
      if (k == "lag") b.unread = v.as_integer().value_or(0);
    }
    if (ours) return b;
  }
  return std::nullopt;
}

asio::awaitable<Result<std::vector<PendingEntry>>> xpending(Client& c, std::string key,
                                                            std::string group, int64_t count) {
  auto r = co_await c.exec(Request::keyed(1, "XPENDING", key, group, "-", "+", count));
  if (!r) co_return r.error();
  if (r->is_error()) co_return reply_error(*r);
  if (!r->is_array()) co_return make_error_code(Errc::kProtocol);
  std::vector<PendingEntry> out;
  for (const auto& e : r->elements) {
    if (!e.is_array() || e.elements.size() != 4) co_return make_error_code(Errc::kProtocol);
    out.push_back(
        {e.elements[0].str, e.elements[1].str, e.elements[2].integer, e.elements[3].integer});
  }
  co_return out;
}

// Classic PUBLISH on any master: a cluster forwards it to every node, so every instance's
// subscriber hears it whichever node that subscriber is connected to.
asio::awaitable<Result<int64_t>> publish(Client& c, std::string channel, std::string message) {
  co_return to_integer(
      co_await c.exec(Request::keyed(Request::kNoKey, "PUBLISH", channel, message)));
}

}  // namespace surge::redis
