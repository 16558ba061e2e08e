// The cluster client: routing, redirections, per-node batches and slot-map refreshes.
#include "redis/cluster.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/awaitable.h"

namespace surge::redis {

namespace {

// One node's share of a batch: its commands in one pipeline, and for each command the caller's
// index and whether an ASKING precedes it (whose +OK is skipped).
struct NodeBatch {
  Endpoint at;
  Command cmd;
  std::vector<size_t> index;
  std::vector<bool> asking;
};

// Completions of the per-node pipelines of one round; the round's coroutine waits on `done`,
// which the last completion cancels. Shared, so a completion never touches a dead frame.
struct Gather {
  explicit Gather(asio::any_io_executor ex, size_t n) : remaining(n), results(n), done(ex) {}
  size_t remaining;
  std::vector<std::pair<error_code, std::vector<Reply>>> results;
  asio::steady_timer done;
};

bool starts_with(const Reply& r, std::string_view prefix) {
  return r.is_error() && std::string_view(r.str).starts_with(prefix);
}

}  // namespace

Result<std::vector<Endpoint>> parse_seeds(std::string_view list) {
  std::vector<Endpoint> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    auto e = parse_endpoint(item);
    if (!e || e->host.empty()) return Errc::kInvalidArgument;
    out.push_back(std::move(*e));
  }
  if (out.empty()) return Errc::kInvalidArgument;
  return out;
}

std::shared_ptr<ClusterClient> ClusterClient::create(asio::any_io_executor ex,
                                                     ClusterOptions options) {
  return std::shared_ptr<ClusterClient>(new ClusterClient(std::move(ex), std::move(options)));
}

ClusterClient::ClusterClient(asio::any_io_executor ex, ClusterOptions options)
    : ex_(std::move(ex)), options_(std::move(options)), refresh_timer_(ex_) {
  options_.node.db = 0;
}

ClusterClient::~ClusterClient() {
  for (auto& [name, conn] : nodes_) conn->stop();
}

void ClusterClient::start() {
  asio::co_spawn(ex_, refresh_loop(shared_from_this()), asio::detached);
}

void ClusterClient::stop() {
  stopped_ = true;
  refresh_timer_.cancel();
  for (auto& [name, conn] : nodes_) conn->stop();
}

asio::awaitable<void> ClusterClient::refresh_loop(
    std::shared_ptr<ClusterClient> /*keeps us alive*/) {
  while (!stopped_) {
    (void)co_await refresh();
    refresh_timer_.expires_after(options_.refresh_interval);
    co_await refresh_timer_.async_wait(kTuple);
  }
}

void ClusterClient::refresh_soon() {
  if (stopped_ || refresh_scheduled_) return;
  refresh_scheduled_ = true;
  asio::co_spawn(ex_, refresh_detached(shared_from_this()), asio::detached);
}

asio::awaitable<void> ClusterClient::refresh_detached(
    std::shared_ptr<ClusterClient> /*keeps us alive*/) {
  // Not skipped when one just ran or is running: the event that asked for this one may be newer
  // than what that one saw. Waits out the gap and any refresh in flight, then asks again.
  asio::steady_timer pause(ex_);
  while (!stopped_) {
    auto due = last_refresh_ + options_.min_refresh_gap;
    if (!refreshing_ && Clock::now() >= due) break;
    pause.expires_at(refreshing_ ? Clock::now() + std::chrono::milliseconds(5) : due);
    co_await pause.async_wait(kTuple);
  }
  refresh_scheduled_ = false;
  if (!stopped_) (void)co_await refresh();
}

Stats ClusterClient::stats() const {
  std::lock_guard lock(nodes_mutex_);
  Stats sum;
  for (const auto& [name, conn] : nodes_) {
    Stats s = conn->stats();
    sum.requests += s.requests;
    sum.writes += s.writes;
    sum.reconnects += s.reconnects;
    sum.timeouts += s.timeouts;
  }
  return sum;
}

asio::awaitable<Result<std::shared_ptr<Connection>>> ClusterClient::node(Endpoint at) {
  if (stopped_) co_return Errc::kShuttingDown;
  std::string name = at.to_string();
  auto it = nodes_.find(name);
  const bool fresh = it == nodes_.end();
  if (fresh) {
    Options o = options_.node;
    o.host = at.host;
    o.port = at.port;
    auto conn = Connection::create(ex_, std::move(o));
    // A node that went away may have been failed over: learn the new masters at once.
    conn->set_state_handler([weak = weak_from_this()](bool up) {
      if (auto self = weak.lock(); self && !up) self->refresh_soon();
    });
    conn->start();
    std::lock_guard lock(nodes_mutex_);
    it = nodes_.emplace(std::move(name), std::move(conn)).first;
  }
  std::shared_ptr<Connection> conn = it->second;
  if (!conn->connected()) {
    // A connection that never connected yet (made just now, here or by a call beside this one)
    // gets its first connect. One that was lost is reconnecting in the background: like
    // Connection itself, fail at once rather than queue behind a node that may be dead (a
    // failover takes seconds); the round counts as one attempt.
    if (!fresh && conn->generation() > 0) co_return Errc::kUnavailable;
    auto ready = co_await conn->wait_ready(options_.node.connect_timeout);
    if (!ready) co_return ready.error();
  }
  co_return conn;
}

asio::awaitable<Result<void>> ClusterClient::refresh() {
  if (refreshing_) co_return Result<void>{};  // the one in flight will install its map
  refreshing_ = true;
  // Masters first (they are known good), then the seeds (the only choice at start-up); among
  // them, nodes whose connection is up first, so a dead master (the usual reason for a refresh)
  // costs no connect timeout.
  std::vector<Endpoint> ask = map_.masters();
  for (const auto& s : options_.seeds) {
    if (std::find(ask.begin(), ask.end(), s) == ask.end()) ask.push_back(s);
  }
  std::stable_partition(ask.begin(), ask.end(), [this](const Endpoint& e) {
    auto it = nodes_.find(e.to_string());
    return it != nodes_.end() && it->second->connected();
  });
  Result<void> outcome = Errc::kUnavailable;
  for (const auto& at : ask) {
    auto conn = co_await node(at);
    if (!conn) {
      fail(fmt::format("{}: {}", at.to_string(), conn.error().message()));
      continue;
    }
    auto reply = co_await (*conn)->exec(Command::make("CLUSTER", "SLOTS"));
    if (!reply) {
      fail(fmt::format("{}: CLUSTER SLOTS: {}", at.to_string(), reply.error().message()));
      continue;
    }
    if (reply->is_error()) {
      fail(fmt::format("{}: CLUSTER SLOTS: {}", at.to_string(), reply->str));
      continue;
    }
    auto map = SlotMap::from_cluster_slots(*reply, at.host);
    if (!map || map->empty()) {
      fail(fmt::format("{}: CLUSTER SLOTS gave no usable slot map", at.to_string()));
      continue;
    }
    map_ = std::move(*map);
    ++stats_.refreshes;
    outcome = Result<void>{};
    break;
  }
  last_refresh_ = Clock::now();
  refreshing_ = false;
  co_return outcome;
}

asio::awaitable<Result<void>> ClusterClient::wait_ready(std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  asio::steady_timer pause(ex_);
  for (;;) {
    if (map_.covered_slots() == kSlotCount) co_return Result<void>{};
    if (stopped_) co_return Errc::kShuttingDown;
    if (Clock::now() >= until) co_return Errc::kTimeout;
    (void)co_await refresh();
    if (map_.covered_slots() == kSlotCount) co_return Result<void>{};
    if (!map_.empty() && last_error_.empty()) {
      fail(fmt::format("slot map covers {} of {} slots", map_.covered_slots(), kSlotCount));
    }
    pause.expires_after(options_.retry_delay);
    co_await pause.async_wait(kTuple);
  }
}

asio::awaitable<Result<Written>> ClusterClient::exec_at(Request request) {
  std::vector<Request> one;
  one.push_back(std::move(request));
  std::vector<Written> origins(1);
  auto replies = co_await exec_routed(std::move(one), &origins);
  if (!replies) co_return replies.error();
  origins.front().reply = std::move(replies->front());
  co_return std::move(origins.front());
}

asio::awaitable<Result<std::vector<std::string>>> ClusterClient::scan(std::string match) {
  if (map_.empty()) (void)co_await refresh();
  if (map_.empty()) co_return make_error_code(Errc::kUnavailable);
  std::vector<std::string> keys;
  // A copy: a refresh while a node is scanned replaces the map.
  const std::vector<Endpoint> masters = map_.masters();
  for (const auto& at : masters) {
    auto conn = co_await node(at);
    if (!conn) {
      fail(fmt::format("{}: {}", at.to_string(), conn.error().message()));
      co_return conn.error();
    }
    auto done = co_await scan_node(**conn, match, keys);
    if (!done) {
      fail(fmt::format("{}: SCAN: {}", at.to_string(), done.error().message()));
      co_return done.error();
    }
  }
  co_return keys;
}

asio::awaitable<Result<std::vector<Reply>>> ClusterClient::exec_all(std::vector<Request> requests) {
  co_return co_await exec_routed(std::move(requests), nullptr);
}

asio::awaitable<Result<std::vector<Reply>>> ClusterClient::exec_routed(
    std::vector<Request> requests, std::vector<Written>* origins) {
  const size_t n = requests.size();
  std::vector<std::optional<Reply>> out(n);
  std::vector<std::optional<Endpoint>> ask_at(n);  // set after ASK, for the next round only
  std::vector<bool> use_eval(n, false);            // after NOSCRIPT
  std::vector<size_t> todo(n);
  for (size_t i = 0; i < n; ++i) todo[i] = i;
  error_code transport;  // the last round's transport failure, if that was the last failure
  asio::steady_timer pause(ex_);

  for (int round = 0; !todo.empty(); ++round) {
    if (stopped_) co_return Errc::kShuttingDown;
    if (round >= options_.max_attempts) {
      fail(fmt::format("gave up after {} attempts ({} of {} commands unanswered); last: {}",
                       options_.max_attempts, todo.size(), n, last_error_));
      co_return transport ? transport : make_error_code(Errc::kServerError);
    }
    bool need_map = map_.empty();
    for (size_t i : todo) {
      if (!ask_at[i] && requests[i].key_index != Request::kNoKey &&
          !map_.owner(key_slot(requests[i].args[requests[i].key_index]))) {
        need_map = true;
      }
    }
    if (need_map) (void)co_await refresh();

    // Split the round per node.
    std::vector<NodeBatch> batches;
    std::vector<size_t> unplaced;
    for (size_t i : todo) {
      const Request& req = requests[i];
      const Endpoint* at = nullptr;
      if (ask_at[i]) {
        at = &*ask_at[i];
      } else if (req.key_index == Request::kNoKey) {
        at = map_.empty() ? nullptr : &map_.masters().front();
      } else if (req.key_index < req.args.size()) {
        at = map_.owner(key_slot(req.args[req.key_index]));
      } else {
        fail(fmt::format("{}: key index {} out of range", req.args.front(), req.key_index));
        co_return Errc::kInvalidArgument;
      }
      if (!at) {
        unplaced.push_back(i);
        continue;
      }
      auto b = std::find_if(batches.begin(), batches.end(),
                            [&](const NodeBatch& nb) { return nb.at == *at; });
      if (b == batches.end()) {
        batches.push_back(NodeBatch{*at, {}, {}, {}});
        b = batches.end() - 1;
      }
      bool asking = ask_at[i].has_value();
      if (asking) b->cmd.add("ASKING");
      if (use_eval[i]) {
        b->cmd.append(req.as_eval().command());
      } else {
        b->cmd.append(req.command());
      }
      b->index.push_back(i);
      b->asking.push_back(asking);
      ask_at[i].reset();
    }
    if (!unplaced.empty()) {
      fail(fmt::format("no master known for '{}' (the slot map covers {} slots)",
                       requests[unplaced.front()].args.front(), map_.covered_slots()));
    }

    // Send every node its pipeline at once, then wait for all of them.
    auto gather = std::make_shared<Gather>(ex_, batches.size());
    std::vector<Written> sent_on(batches.size());
    for (size_t k = 0; k < batches.size(); ++k) {
      auto conn = co_await node(batches[k].at);
      if (!conn) {
        gather->results[k].first = conn.error();
        --gather->remaining;
        continue;
      }
      // A successful answer comes from this socket: a lost one fails everything in flight.
      sent_on[k].node = *conn;
      sent_on[k].generation = (*conn)->generation();
      (*conn)->async_exec(std::move(batches[k].cmd),
                          [gather, k](error_code ec, std::vector<Reply> replies) {
                            gather->results[k] = {ec, std::move(replies)};
                            if (--gather->remaining == 0) gather->done.cancel();
                          });
    }
    if (gather->remaining > 0) {
      gather->done.expires_at(Clock::time_point::max());
      co_await gather->done.async_wait(kTuple);
      // Woken before the last node answered: the caller was cancelled (its client went away).
      // The answers still coming land in `gather`, which they keep alive, and are dropped.
      if (gather->remaining > 0) co_return Errc::kCancelled;
    }

    // Sort the answers: final ones go to `out`, the rest into the next round.
    std::vector<size_t> next = std::move(unplaced);
    bool slow_down = !next.empty();
    transport = {};
    for (size_t k = 0; k < batches.size(); ++k) {
      const NodeBatch& b = batches[k];
      auto& [ec, replies] = gather->results[k];
      if (ec) {
        fail(fmt::format("{}: {}", b.at.to_string(), ec.message()));
        transport = ec;
        slow_down = true;
        next.insert(next.end(), b.index.begin(), b.index.end());
        refresh_soon();
        continue;
      }
      size_t pos = 0;
      for (size_t j = 0; j < b.index.size(); ++j) {
        if (b.asking[j]) ++pos;  // ASKING's +OK
        size_t i = b.index[j];
        Reply& r = replies[pos++];
        if (r.is_error()) {
          if (auto redirect = parse_redirect(r.str, b.at.host)) {
            fail(fmt::format("{} answered {}", b.at.to_string(), r.str));
            if (redirect->ask) {
              ++stats_.asked;
              ask_at[i] = std::move(redirect->to);
            } else {
              ++stats_.moved;
              map_.assign(redirect->slot, redirect->to);
              refresh_soon();
            }
            next.push_back(i);
            continue;
          }
          if (starts_with(r, "NOSCRIPT") && requests[i].script && !use_eval[i]) {
            ++stats_.noscript;
            use_eval[i] = true;
            next.push_back(i);
            continue;
          }
          if (starts_with(r, "TRYAGAIN") || starts_with(r, "CLUSTERDOWN")) {
            fail(fmt::format("{} answered {}", b.at.to_string(), r.str));
            slow_down = true;
            next.push_back(i);
            continue;
          }
        }
        out[i] = std::move(r);
        if (origins) {
          (*origins)[i].node = sent_on[k].node;
          (*origins)[i].generation = sent_on[k].generation;
        }
      }
    }
    if (slow_down && !next.empty()) {
      ++stats_.retried;
      pause.expires_after(options_.retry_delay);
      co_await pause.async_wait(kTuple);
    }
    todo = std::move(next);
  }

  std::vector<Reply> replies;
  replies.reserve(n);
  for (auto& r : out) replies.push_back(std::move(*r));
  co_return replies;
}

}  // namespace surge::redis
