// The order writer's loops.
#include "sale/order_writer.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/parse.h"

namespace surge::sale {

namespace {

using Millis = std::chrono::milliseconds;

bool is_outage(error_code ec) {
  return ec == Errc::kUnavailable || ec == Errc::kTimeout || ec == Errc::kShuttingDown;
}

std::string_view field(const redis::StreamEntry& e, std::string_view name) {
  for (const auto& [k, v] : e.fields) {
    if (k == name) return v;
  }
  return {};
}

}  // namespace

Result<db::OrderRow> order_from_entry(const redis::StreamEntry& e) {
  auto id = core::parse_id(field(e, "id"));
  auto user = core::parse_id(field(e, "userId"));
  auto voucher = core::parse_id(field(e, "voucherId"));
  auto ms = core::parse_int64(std::string_view(e.id).substr(0, e.id.find('-')), 0);
  if (!id || !user || !voucher || !ms) return make_error_code(Errc::kInvalidArgument);
  return db::OrderRow{*id, *user, *voucher, *ms};
}

struct OrderWriter::Shard {
  int index = 0;
  std::string stream;
  std::string queued;
  std::shared_ptr<redis::Connection> conn;
  std::atomic<int64_t> lag{0};
  redis::Clock::time_point next_claim{};
  redis::Clock::time_point next_lag{};
};

std::shared_ptr<OrderWriter> OrderWriter::create(asio::any_io_executor ex, redis::Options redis,
                                                 db::VoucherRepository& orders,
                                                 const FlashSale& sale, WriterOptions options) {
  return std::shared_ptr<OrderWriter>(
      new OrderWriter(std::move(ex), std::move(redis), orders, sale, std::move(options)));
}

OrderWriter::OrderWriter(asio::any_io_executor ex, redis::Options redis,
                         db::VoucherRepository& orders, const FlashSale& sale,
                         WriterOptions options)
    : ex_(std::move(ex)),
      redis_(std::move(redis)),
      orders_(orders),
      sale_(sale),
      options_(std::move(options)) {
  // A blocked read is a long request by design: the stall watchdog must allow for it.
  redis_.request_timeout = options_.block + std::chrono::seconds(3);
  for (int i = 0; i < sale_.shards(); ++i) {
    auto s = std::make_shared<Shard>();
    s->index = i;
    s->stream = sale_.stream_key(i);
    s->queued = sale_.queued_key(i);
    auto o = redis_;
    o.client_name = fmt::format("{}-orders-{}", options_.consumer, i);
    s->conn = redis::Connection::create(ex_, o);
    shards_.push_back(std::move(s));
  }
}

void OrderWriter::start() {
  asio::post(ex_, [self = shared_from_this()] {
    for (auto& s : self->shards_) {
      s->conn->start();
      asio::co_spawn(self->ex_, self->run_shard(s), asio::detached);
    }
  });
}

void OrderWriter::stop() {
  stopping_ = true;
  asio::post(ex_, [self = shared_from_this()] {
    for (auto& s : self->shards_) s->conn->stop();
  });
}

asio::awaitable<void> OrderWriter::pause(Millis d) {
  asio::steady_timer t(ex_, d);
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

asio::awaitable<bool> OrderWriter::ensure_group(Shard& s) {
  auto made = co_await redis::xgroup_create(*s.conn, s.stream, options_.group, "0");
  co_return static_cast<bool>(made);
}

asio::awaitable<void> OrderWriter::run_shard(std::shared_ptr<Shard> shard) {
  Shard& s = *shard;
  auto self = shared_from_this();  // the loop keeps the writer alive
  (void)co_await s.conn->wait_ready(std::chrono::seconds(5));
  bool grouped = false;
  bool own_pending = true;  // first finish whatever this consumer read before a restart
  Millis backoff(100);
  while (!stopping_) {
    if (!grouped) {
      grouped = co_await ensure_group(s);
      if (!grouped) {
        co_await pause(backoff);
        backoff = std::min(backoff * 2, Millis(2000));
        continue;
      }
    }
    auto now = redis::Clock::now();
    if (now >= s.next_lag) {
      co_await measure_lag(s);
      s.next_lag = now + Millis(500);
    }
    if (now >= s.next_claim) {
      s.next_claim = now + options_.claim_every;
      auto claimed =
          co_await redis::xautoclaim(*s.conn, s.stream, options_.group, options_.consumer,
                                     options_.claim_idle, "0-0", options_.batch);
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
    auto read = co_await redis::xreadgroup(*s.conn, options_.group, options_.consumer, s.stream,
                                           own_pending ? "0" : ">", options_.batch, block);
    if (!read) {
      if (stopping_) break;
      // NOGROUP (the stream was deleted) comes back as a server error: make the group again.
      if (read.error() == Errc::kServerError) grouped = false;
      co_await pause(backoff);
      backoff = std::min(backoff * 2, Millis(2000));
      continue;
    }
    backoff = Millis(100);
    if (own_pending && read->empty()) {
      own_pending = false;
      continue;
    }
    if (!read->empty()) co_await handle(s, std::move(*read));
  }
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
      co_await dead_letter(s, std::move(e), "malformed entry");
      continue;
    }
    rows.push_back(*row);
    kept.push_back(std::move(e));
  }
  if (!deleted.empty()) co_await acknowledge(s, std::move(deleted), {});
  if (rows.empty()) co_return;
  std::vector<std::string> ids;
  for (const auto& e : kept) ids.push_back(e.id);
  auto done = co_await commit(s, rows, std::move(ids), false);
  if (done != Commit::kRefused) co_return;
  // Something in the batch is refused: find it by committing entries one by one.
  for (size_t i = 0; i < kept.size() && !stopping_; ++i) {
    std::vector<db::OrderRow> one{rows[i]};
    std::vector<std::string> one_id{kept[i].id};
    auto alone = co_await commit(s, std::move(one), std::move(one_id), true);
    if (alone == Commit::kRefused) {
      co_await dead_letter(s, std::move(kept[i]), "refused by the database");
    }
  }
}

asio::awaitable<OrderWriter::Commit> OrderWriter::commit(Shard& s, std::vector<db::OrderRow> rows,
                                                         std::vector<std::string> ids,
                                                         bool single) {
  Millis backoff(50);
  int failures = 0;
  bool reported = false;
  while (!stopping_) {
    auto stored = co_await orders_.persist_orders(rows);
    if (stored) {
      if (reported) spdlog::info("orders: shard {} persisting again", s.index);
      counters_.persisted.fetch_add(*stored, std::memory_order_relaxed);
      counters_.replayed.fetch_add(rows.size() - *stored, std::memory_order_relaxed);
      counters_.batches.fetch_add(1, std::memory_order_relaxed);
      co_await acknowledge(s, std::move(ids), std::move(rows));
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
    co_await pause(backoff);
    backoff = std::min(backoff * 2, Millis(2000));
  }
  co_return Commit::kStopped;
}

asio::awaitable<void> OrderWriter::acknowledge(Shard& s, std::vector<std::string> ids,
                                               std::vector<db::OrderRow> rows) {
  redis::Command cmd;
  cmd.begin(3 + ids.size()).arg("XACK").arg(s.stream).arg(options_.group);
  for (const auto& id : ids) cmd.arg(id);
  if (!rows.empty()) {
    cmd.begin(2 + rows.size()).arg("HDEL").arg(s.queued);
    for (const auto& r : rows) cmd.arg(r.id);
  }
  Millis backoff(50);
  // Until acknowledged the entries stay pending and would be written again: harmless, but keep
  // trying so the pending list does not grow.
  while (!stopping_) {
    auto r = co_await s.conn->exec_all(cmd);
    if (r) co_return;
    co_await pause(backoff);
    backoff = std::min(backoff * 2, Millis(2000));
  }
}

asio::awaitable<void> OrderWriter::dead_letter(Shard& s, redis::StreamEntry entry,
                                               std::string why) {
  spdlog::error("orders: shard {} entry {} moved to {}: {}", s.index, entry.id,
                sale_.dead_letter_key(s.index), why);
  redis::Command cmd;
  cmd.begin(3 + 2 * (entry.fields.size() + 2)).arg("XADD").arg(sale_.dead_letter_key(s.index));
  cmd.arg("*").arg("entry").arg(entry.id).arg("reason").arg(why);
  for (const auto& [k, v] : entry.fields) cmd.arg(k).arg(v);
  cmd.add("XACK", s.stream, options_.group, entry.id);
  auto r = co_await s.conn->exec_all(std::move(cmd));
  if (r) counters_.dead_letters.fetch_add(1, std::memory_order_relaxed);
}

asio::awaitable<void> OrderWriter::measure_lag(Shard& s) {
  auto r = co_await s.conn->exec(redis::Command::make("XINFO", "GROUPS", s.stream));
  if (!r || !r->is_array()) co_return;
  for (const auto& g : r->elements) {
    if (!g.is_array()) continue;
    bool ours = false;
    int64_t lag = 0, pending = 0;
    for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& k = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (k == "name") ours = v.str == options_.group;
      if (k == "pending") pending = v.as_integer().value_or(0);
      if (k == "lag") lag = v.as_integer().value_or(0);
    }
    if (ours) s.lag.store(lag + pending, std::memory_order_relaxed);
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
  st.retries = rd(counters_.retries);
  for (const auto& s : shards_) st.lag += s->lag.load(std::memory_order_relaxed);
  return st;
}

void OrderWriter::render_metrics(std::string& out) const {
  auto st = stats();
  auto it = std::back_inserter(out);
  auto counter = [&](const char* name, uint64_t v) {
    fmt::format_to(it, "# TYPE {0} counter\n{0} {1}\n", name, v);
  };
  counter("surge_orders_persisted_total", st.persisted);
  counter("surge_order_replays_total", st.replayed);
  counter("surge_order_batches_total", st.batches);
  counter("surge_order_claimed_total", st.claimed);
  counter("surge_order_dead_letters_total", st.dead_letters);
  counter("surge_order_commit_retries_total", st.retries);
  fmt::format_to(it, "# TYPE surge_order_stream_lag gauge\nsurge_order_stream_lag {}\n", st.lag);
}

}  // namespace surge::sale
