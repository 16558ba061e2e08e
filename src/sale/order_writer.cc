// The order writer's loops.
#include "sale/order_writer.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/awaitable.h"
#include "common/backoff.h"
#include "core/exposition.h"
#include "core/parse.h"

namespace surge::sale {

namespace {

using Millis = std::chrono::milliseconds;

// Transient failures: the server is unreachable or gone, or the transaction lost a lock race
// (the repository reports deadlocks and lock wait timeouts as kTimeout). Retried until durable.
bool is_outage(error_code ec) {
  return ec == Errc::kUnavailable || ec == Errc::kTimeout || ec == Errc::kShuttingDown;
}

constexpr std::string_view kCollision = "collision";

std::string collision_reason(const db::OrderRow& r) {
  return fmt::format(
      "{}: user {} already holds another order for voucher {}, or order id {} is another order's",
      kCollision, r.user_id, r.voucher_id, r.id);
}

// A stream id as (ms, seq), ordered like Redis orders them.
struct StreamId {
  int64_t ms = 0;
  int64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
};

std::optional<StreamId> parse_stream_id(std::string_view id) {
  size_t dash = id.find('-');
  auto ms = core::parse_int64(id.substr(0, dash), 0);
  auto seq = dash == std::string_view::npos ? std::optional<int64_t>(0)
                                            : core::parse_int64(id.substr(dash + 1), 0);
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

}  // namespace

Result<db::OrderRow> order_from_entry(const redis::StreamEntry& e) {
  auto id = core::parse_id(e.field(field::kOrderId));
  auto user = core::parse_id(e.field(field::kUserId));
  auto voucher = core::parse_id(e.field(field::kVoucherId));
  auto ms = core::parse_int64(std::string_view(e.id).substr(0, e.id.find('-')), 0);
  if (!id || !user || !voucher || !ms) return make_error_code(Errc::kInvalidArgument);
  return db::OrderRow{*id, *user, *voucher, *ms};
}

struct OrderWriter::Shard {
  explicit Shard(asio::any_io_executor ex) : pause(std::move(ex)) {}
  int index = 0;
  std::string stream;
  std::string queued;
  std::shared_ptr<redis::Client> client;
  std::atomic<int64_t> lag{0};
  redis::Clock::time_point next_claim{};
  redis::Clock::time_point next_lag{};
  redis::Clock::time_point next_trim{};
  // The loop's backoff sleeps, cancelled by stop(): a loop must end promptly so that its frame,
  // which holds the writer and so this shard's connection, is freed before the workers stop.
  asio::steady_timer pause;
};

ShardClientFactory node_clients(asio::any_io_executor ex, redis::Options options) {
  return [ex = std::move(ex), options = std::move(options)](
             const std::string& name, std::chrono::milliseconds request_timeout) {
    auto o = options;
    o.client_name = name;
    o.request_timeout = request_timeout;
    return std::static_pointer_cast<redis::Client>(redis::NodeClient::create(ex, std::move(o)));
  };
}

std::shared_ptr<OrderWriter> OrderWriter::create(asio::any_io_executor ex, ShardClientFactory redis,
                                                 db::VoucherRepository& orders,
                                                 const FlashSale& sale, WriterOptions options) {
  return std::shared_ptr<OrderWriter>(
      new OrderWriter(std::move(ex), redis, orders, sale, std::move(options)));
}

OrderWriter::OrderWriter(asio::any_io_executor ex, const ShardClientFactory& redis,
                         db::VoucherRepository& orders, const FlashSale& sale,
                         WriterOptions options)
    : ex_(std::move(ex)), orders_(orders), sale_(sale), options_(std::move(options)) {
  // A blocked read is a long request by design: the stall watchdog must allow for it.
  auto request_timeout = options_.block + std::chrono::seconds(3);
  for (int i = 0; i < sale_.shards(); ++i) {
    auto s = std::make_shared<Shard>(ex_);
    s->index = i;
    s->stream = sale_.stream_key(i);
    s->queued = sale_.queued_key(i);
    s->client = redis(fmt::format("{}-orders-{}", options_.consumer, i), request_timeout);
    shards_.push_back(std::move(s));
  }
}

void OrderWriter::start() {
  asio::post(ex_, [self = shared_from_this()] {
    for (auto& s : self->shards_) {
      s->client->start();
      asio::co_spawn(self->ex_, self->run_shard(s), asio::detached);
    }
  });
}

void OrderWriter::stop() {
  stopping_ = true;
  asio::post(ex_, [self = shared_from_this()] {
    for (auto& s : self->shards_) {
      s->client->stop();
      s->pause.cancel();
    }
  });
}

asio::awaitable<void> OrderWriter::pause(Shard& s, Millis d) {
  if (stopping_) co_return;
  s.pause.expires_after(d);
  auto [ec] = co_await s.pause.async_wait(kTuple);
  (void)ec;
}

asio::awaitable<bool> OrderWriter::ensure_group(Shard& s) {
  auto made = redis::xgroup_created(
      co_await s.client->exec(redis::xgroup_create_request(s.stream, options_.group, "0")));
  co_return static_cast<bool>(made);
}

asio::awaitable<void> OrderWriter::run_shard(std::shared_ptr<Shard> shard) {
  Shard& s = *shard;
  auto self = shared_from_this();  // the loop keeps the writer alive
  (void)co_await s.client->wait_ready(std::chrono::seconds(5));
  bool grouped = false;
  bool own_pending = true;  // first finish whatever this consumer read before a restart
  Backoff backoff(Millis(100), Millis(2000));
  while (!stopping_) {
    if (!grouped) {
      grouped = co_await ensure_group(s);
      if (!grouped) {
        co_await pause(s, backoff.next());
        continue;
      }
    }
    auto now = redis::Clock::now();
    if (now >= s.next_lag) {
      co_await measure_lag(s);
      s.next_lag = now + Millis(500);
    }
    if (now >= s.next_trim) {
      co_await trim(s);
      s.next_trim = now + options_.trim_every;
    }
    if (now >= s.next_claim) {
      s.next_claim = now + options_.claim_every;
      auto claimed = redis::xautoclaim_entries(co_await s.client->exec(
          redis::xautoclaim_request(s.stream, options_.group, options_.consumer,
                                    options_.claim_idle, "0-0", options_.batch)));
      if (claimed && !claimed->second.empty()) {
        counters_.claimed.fetch_add(claimed->second.size(), std::memory_order_relaxed);
        spdlog::warn("orders: shard {} took over {} entries idle > {} ms in other consumers",
                     s.index, claimed->second.size(), options_.claim_idle.count());
        co_await handle(s, std::move(claimed->second));
        continue;
      }
    }
    std::optional<Millis> block;
    if (!own_pending) block = options_.block;
    auto answer = co_await s.client->exec_at(
        redis::xreadgroup_request(options_.group, options_.consumer, s.stream,
                                  own_pending ? "0" : ">", options_.batch, block));
    auto read = answer ? redis::xreadgroup_entries(std::move(answer->reply))
                       : Result<std::vector<redis::StreamEntry>>(answer.error());
    if (read && !read->empty() && options_.replicas > 0 &&
        !co_await on_replicas(s, *answer, read->size())) {
      // Not known to be on a replica: a failover could still take these entries back. Read
      // this consumer's pending entries again (from the promoted node, if it came to that).
      own_pending = true;
      co_await pause(s, backoff.next());
      continue;
    }
    if (!read) {
      if (stopping_) break;
      // NOGROUP (the stream was deleted) comes back as a server error: make the group again.
      if (read.error() == Errc::kServerError) grouped = false;
      co_await pause(s, backoff.next());
      continue;
    }
    backoff.reset();
    if (own_pending && read->empty()) {
      own_pending = false;
      continue;
    }
    if (!read->empty()) co_await handle(s, std::move(*read));
  }
}

asio::awaitable<bool> OrderWriter::on_replicas(Shard& s, const redis::Written& read, size_t n) {
  // The read's delivery is a write replicated after the entries' XADDs, so a WAIT on the reading
  // connection covers the entries themselves.
  auto acked = co_await redis::replicated(read, options_.replicas, options_.replica_timeout);
  if (acked && *acked >= options_.replicas) co_return true;
  counters_.unreplicated.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("orders: shard {}: {} entries read but not on {} replica(s) yet ({}); not persisted",
               s.index, n, options_.replicas,
               acked ? fmt::format("{} acknowledged", *acked) : acked.error().message());
  co_return false;
}

asio::awaitable<void> OrderWriter::handle(Shard& s, std::vector<redis::StreamEntry> entries) {
  std::vector<db::OrderRow> rows;  // rows[i] is parsed from kept[i]
  std::vector<redis::StreamEntry> kept;
  std::vector<std::string> deleted;
  for (auto& e : entries) {
    if (e.fields.empty()) {  // trimmed or deleted from the stream while pending
      deleted.push_back(e.id);
      continue;
    }
    auto row = order_from_entry(e);
    if (!row) {
      co_await dead_letter(s, std::move(e), "malformed entry", std::nullopt);
      continue;
    }
    rows.push_back(*row);
    kept.push_back(std::move(e));
  }
  if (!deleted.empty()) co_await acknowledge(s, std::move(deleted), {});
  if (rows.empty()) co_return;
  std::vector<std::string> ids;
  for (const auto& e : kept) ids.push_back(e.id);
  std::vector<size_t> collided;
  auto done = co_await commit(s, rows, std::move(ids), false, collided);
  for (size_t i : collided) {
    co_await dead_letter(s, std::move(kept[i]), collision_reason(rows[i]), rows[i]);
  }
  if (done != Commit::kRefused) co_return;
  // Something in the batch is refused: find it by committing entries one by one.
  for (size_t i = 0; i < kept.size() && !stopping_; ++i) {
    std::vector<db::OrderRow> one{rows[i]};
    std::vector<std::string> one_id{kept[i].id};
    std::vector<size_t> one_collided;
    auto alone = co_await commit(s, std::move(one), std::move(one_id), true, one_collided);
    if (alone == Commit::kRefused) {
      co_await dead_letter(s, std::move(kept[i]), "refused by the database", rows[i]);
    } else if (!one_collided.empty()) {
      co_await dead_letter(s, std::move(kept[i]), collision_reason(rows[i]), rows[i]);
    }
  }
}

asio::awaitable<OrderWriter::Commit> OrderWriter::commit(Shard& s, std::vector<db::OrderRow> rows,
                                                         std::vector<std::string> ids, bool single,
                                                         std::vector<size_t>& collided) {
  Backoff backoff(Millis(50), Millis(2000));
  int failures = 0;
  bool reported = false;
  while (!stopping_) {
    auto stored = co_await orders_.persist_orders(rows);
    if (stored) {
      if (reported) spdlog::info("orders: shard {} persisting again", s.index);
      counters_.persisted.fetch_add(stored->inserted, std::memory_order_relaxed);
      counters_.replayed.fetch_add(stored->replayed, std::memory_order_relaxed);
      counters_.batches.fetch_add(1, std::memory_order_relaxed);
      // Collisions stay pending until the caller has dead-lettered them: a crash in between
      // finds them again (and they collide again).
      std::vector<std::string> ack_ids;
      std::vector<db::OrderRow> ack_rows;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (std::find(stored->collisions.begin(), stored->collisions.end(), rows[i].id) !=
            stored->collisions.end()) {
          collided.push_back(i);
          continue;
        }
        ack_ids.push_back(std::move(ids[i]));
        ack_rows.push_back(rows[i]);
      }
      if (!ack_ids.empty()) co_await acknowledge(s, std::move(ack_ids), std::move(ack_rows));
      co_return Commit::kDone;
    }
    counters_.retries.fetch_add(1, std::memory_order_relaxed);
    if (!reported) {
      spdlog::warn("orders: shard {} cannot persist {} orders ({}); holding them and retrying",
                   s.index, rows.size(), stored.error().message());
      reported = true;
    }
    if (!is_outage(stored.error())) {
      if (!single || ++failures >= options_.max_failures) co_return Commit::kRefused;
    }
    co_await pause(s, backoff.next());
  }
  co_return Commit::kStopped;
}

asio::awaitable<void> OrderWriter::acknowledge(Shard& s, std::vector<std::string> ids,
                                               std::vector<db::OrderRow> rows) {
  std::vector<redis::Request> cmd(1);
  cmd[0] = redis::Request::keyed(1, "XACK", s.stream, options_.group);
  cmd[0].args.insert(cmd[0].args.end(), ids.begin(), ids.end());
  if (!rows.empty()) {
    cmd.push_back(redis::Request::keyed(1, "HDEL", s.queued));
    for (const auto& r : rows) cmd.back().args.push_back(std::to_string(r.id));
  }
  Backoff backoff(Millis(50), Millis(2000));
  // Until acknowledged the entries stay pending and would be written again: harmless, but keep
  // trying so the pending list does not grow.
  while (!stopping_) {
    auto r = co_await s.client->exec_all(cmd);
    if (r) co_return;
    co_await pause(s, backoff.next());
  }
}

asio::awaitable<void> OrderWriter::dead_letter(Shard& s, redis::StreamEntry entry, std::string why,
                                               std::optional<db::OrderRow> row) {
  spdlog::error("orders: shard {} entry {} moved to {}: {}", s.index, entry.id,
                sale_.dead_letter_key(s.index), why);
  std::vector<redis::Request> cmd;
  cmd.push_back(redis::Request::keyed(1, "XADD", sale_.dead_letter_key(s.index), "*", "entry",
                                      entry.id, "reason", why));
  for (const auto& [k, v] : entry.fields) {
    cmd.back().args.push_back(k);
    cmd.back().args.push_back(v);
  }
  // The buyer's order lookup and reconcile then report it as dead, not as queued for ever.
  if (row) {
    cmd.push_back(redis::Request::keyed(1, "HSET", s.queued, row->id,
                                        FlashSale::dead_marker(row->user_id, row->voucher_id)));
  }
  cmd.push_back(redis::Request::keyed(1, "XACK", s.stream, options_.group, entry.id));
  auto r = co_await s.client->exec_all(std::move(cmd));
  if (!r) co_return;  // still pending: read again later, and dead-lettered again
  counters_.dead_letters.fetch_add(1, std::memory_order_relaxed);
  if (why.starts_with(kCollision)) counters_.collisions.fetch_add(1, std::memory_order_relaxed);
}

// Removes entries that every group has acknowledged and that are older than the retention:
// below the oldest pending entry, at or below no group's last delivered id, and older than
// now − retention. Entries still pending are never removed (they would be lost).
asio::awaitable<void> OrderWriter::trim(Shard& s) {
  auto groups = co_await s.client->exec(redis::Request::keyed(2, "XINFO", "GROUPS", s.stream));
  if (!groups || !groups->is_array() || groups->elements.empty()) co_return;
  auto now_ms =
      std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  StreamId bound{std::max<int64_t>(0, now_ms - options_.retention.count()), 0};
  for (const auto& g : groups->elements) {
    if (!g.is_array()) co_return;
    std::string name;
    std::optional<StreamId> delivered;
    int64_t pending = 0;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& k = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (k == "name") name = v.str;
      if (k == "pending") pending = v.as_integer().value_or(0);
      if (k == "last-delivered-id") delivered = parse_stream_id(v.str);
    }
    if (!delivered) co_return;
    bound = std::min(bound, *delivered);
    if (pending > 0) {
      auto oldest = co_await s.client->exec(redis::Request::keyed(1, "XPENDING", s.stream, name));
      if (!oldest || !oldest->is_array() || oldest->elements.size() < 2) co_return;
      auto first = parse_stream_id(oldest->elements[1].str);
      if (!first) co_return;
      bound = std::min(bound, *first);
    }
  }
  auto id = fmt::format("{}-{}", bound.ms, bound.seq);
  auto trimmed = co_await s.client->exec(redis::Request::keyed(1, "XTRIM", s.stream, "MINID", id));
  if (trimmed && trimmed->as_integer() && *trimmed->as_integer() > 0) {
    counters_.trimmed.fetch_add(static_cast<uint64_t>(*trimmed->as_integer()),
                                std::memory_order_relaxed);
  }
}

asio::awaitable<void> OrderWriter::measure_lag(Shard& s) {
  auto r = co_await s.client->exec(redis::Request::keyed(2, "XINFO", "GROUPS", s.stream));
  if (!r) co_return;
  if (auto g = redis::group_backlog(*r, options_.group)) {
    s.lag.store(g->unread + g->pending, std::memory_order_relaxed);
  }
}

WriterStats OrderWriter::stats() const {
  WriterStats st;
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  st.persisted = rd(counters_.persisted);
  st.replayed = rd(counters_.replayed);
  st.batches = rd(counters_.batches);
  st.claimed = rd(counters_.claimed);
  st.dead_letters = rd(counters_.dead_letters);
  st.collisions = rd(counters_.collisions);
  st.retries = rd(counters_.retries);
  st.trimmed = rd(counters_.trimmed);
  st.unreplicated = rd(counters_.unreplicated);
  for (const auto& s : shards_) st.lag += s->lag.load(std::memory_order_relaxed);
  return st;
}

void OrderWriter::render_metrics(std::string& out) const {
  auto st = stats();
  core::Exposition e(out);
  e.single("surge_orders_persisted_total", "counter", "Orders committed to MariaDB.", st.persisted)
      .single("surge_order_replays_total", "counter",
              "Entries already in MariaDB (a redelivery after a crash), acknowledged again.",
              st.replayed)
      .single("surge_order_batches_total", "counter", "Batches committed.", st.batches)
      .single("surge_order_claimed_total", "counter",
              "Entries claimed from consumers that stopped reading.", st.claimed)
      .single("surge_order_dead_letters_total", "counter",
              "Entries moved to a dead-letter stream (refused by MariaDB for their content).",
              st.dead_letters)
      .single("surge_order_collisions_total", "counter",
              "New order ids for a (user, voucher) pair that already has an order.", st.collisions)
      .single("surge_order_commit_retries_total", "counter",
              "Batch commits retried after a transient database error.", st.retries)
      .single("surge_order_stream_trimmed_total", "counter",
              "Acknowledged stream entries trimmed after the retention period.", st.trimmed)
      .single("surge_order_unreplicated_reads_total", "counter",
              "Reads not persisted because no replica acknowledged them in time.", st.unreplicated)
      .single("surge_order_stream_lag", "gauge", "Entries waiting in the order streams.", st.lag);
}

}  // namespace surge::sale
