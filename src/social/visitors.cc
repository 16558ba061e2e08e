// Self-clocking PFADD batches: the first visitor goes out at once; visitors arriving while that
// PFADD is in flight leave together when its reply comes back.
#include "social/visitors.h"

#include <spdlog/spdlog.h>

#include "common/per_worker.h"
#include "redis/commands.h"
#include "redis/pipeline.h"

namespace surge::social {

namespace {
// Bounds each worker's memory of today's visitors; past it the set restarts (costing only
// repeated PFADDs of known visitors, which HyperLogLog ignores).
constexpr size_t kMaxRemembered = 100000;
constexpr size_t kMaxBatch = 512;
}  // namespace

std::string uv_key(core::Date day) { return "uv:" + core::format_yyyymmdd(day); }

UvRecorder::UvRecorder(std::vector<redis::Connection*> connections) {
  workers_.resize(connections.size());
  for (size_t i = 0; i < connections.size(); ++i) workers_[i].conn = connections[i];
}

void UvRecorder::record(std::string_view visitor, int64_t now_ms) {
  size_t worker = this_worker::index();
  Worker& w = workers_[worker];
  if (now_ms >= w.day_ends_at_ms) {
    auto day = core::local_day(now_ms);
    w.key = uv_key(day.date);
    w.day_ends_at_ms = day.ends_at_ms;
    w.sent.clear();
  }
  if (w.sent.size() >= kMaxRemembered) w.sent.clear();
  auto [it, fresh] = w.sent.emplace(visitor);
  if (!fresh) return;
  w.pending.push_back(*it);
  if (!w.in_flight) flush(worker);
}

void UvRecorder::flush(size_t worker) {
  Worker& w = workers_[worker];
  if (w.pending.empty()) return;
  size_t n = std::min(w.pending.size(), kMaxBatch);
  std::vector<std::string> batch(std::make_move_iterator(w.pending.begin()),
                                 std::make_move_iterator(w.pending.begin() + n));
  w.pending.erase(w.pending.begin(), w.pending.begin() + n);
  redis::Command cmd;
  cmd.add_list("PFADD", w.key, batch);
  w.in_flight = true;
  // The connection completes handlers on its own (this worker's) thread.
  w.conn->async_exec(std::move(cmd), [this, worker, batch = std::move(batch)](
                                         error_code ec, std::vector<redis::Reply> replies) {
    Worker& w = workers_[worker];
    w.in_flight = false;
    if (ec || replies.empty() || replies[0].is_error()) {
      // Forget them, so their next request tries again.
      for (const auto& v : batch) w.sent.erase(v);
      spdlog::debug("uv: PFADD of {} visitors failed", batch.size());
    }
    flush(worker);
  });
}

boost::asio::awaitable<Result<int64_t>> count_visitors(redis::Connection& c, core::Date day) {
  std::vector<std::string> keys{uv_key(day)};
  co_return co_await redis::pfcount(c, std::move(keys));
}

boost::asio::awaitable<Result<VisitorCounts>> count_visitors(redis::Connection& c, core::Date first,
                                                             core::Date last) {
  redis::Command cmd;
  std::vector<std::string> keys;
  for (int64_t day = core::days_from_civil(first); day <= core::days_from_civil(last); ++day) {
    keys.push_back(uv_key(core::civil_from_days(day)));
    cmd.add("PFCOUNT", keys.back());
  }
  cmd.add_list("PFCOUNT", keys);
  auto counts = co_await redis::exec_each<int64_t>(c, std::move(cmd));
  if (!counts) co_return counts.error();
  VisitorCounts out;
  out.total = counts->back();
  counts->pop_back();
  out.per_day = std::move(*counts);
  co_return out;
}

}  // namespace surge::social
