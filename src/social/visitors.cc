// Self-clocking PFADD batches: the first visitor goes out at once; visitors arriving while that
// PFADD is in flight leave together when its reply comes back.
#include "social/visitors.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/per_worker.h"
#include "redis/pipeline.h"

namespace surge::social {

namespace {
// Bounds each worker's memory of today's visitors; past it the set restarts (costing only
// repeated PFADDs of known visitors, which HyperLogLog ignores).
constexpr size_t kMaxRemembered = 100000;
constexpr size_t kMaxBatch = 512;
}  // namespace

std::string uv_key(core::Date day) { return "{uv}:" + core::format_yyyymmdd(day); }

UvRecorder::UvRecorder(std::vector<WorkerClient> workers) {
  workers_.resize(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) workers_[i].at = std::move(workers[i]);
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
  if (w.sent.contains(visitor)) return;
  if (w.sent.size() >= kMaxRemembered) w.sent.clear();
  w.pending.push_back(*w.sent.emplace(visitor).first);
  if (!w.in_flight) flush(worker);
}

void UvRecorder::flush(size_t worker) {
  Worker& w = workers_[worker];
  if (w.pending.empty()) return;
  size_t n = std::min(w.pending.size(), kMaxBatch);
  std::vector<std::string> batch(std::make_move_iterator(w.pending.begin()),
                                 std::make_move_iterator(w.pending.begin() + n));
  w.pending.erase(w.pending.begin(), w.pending.begin() + n);
  w.in_flight = true;
  boost::asio::co_spawn(w.at.executor, send(worker, w.key, std::move(batch)),
                        boost::asio::detached);
}

// On the worker's own io_context, like everything else of that worker's state.
boost::asio::awaitable<void> UvRecorder::send(size_t worker, std::string key,
                                              std::vector<std::string> batch) {
  redis::Request pfadd;
  pfadd.key_index = 1;
  pfadd.args.reserve(2 + batch.size());
  pfadd.args.push_back("PFADD");
  pfadd.args.push_back(std::move(key));
  pfadd.args.insert(pfadd.args.end(), batch.begin(), batch.end());
  auto added = co_await workers_[worker].at.client->exec(std::move(pfadd));
  Worker& w = workers_[worker];
  w.in_flight = false;
  if (!added || added->is_error()) {
    // Forget them, so their next request tries again.
    for (const auto& v : batch) w.sent.erase(v);
    spdlog::debug("uv: PFADD of {} visitors failed", batch.size());
  }
  flush(worker);
}

boost::asio::awaitable<Result<int64_t>> count_visitors(redis::Client& c, core::Date day) {
  auto request = redis::Request::keyed(1, "PFCOUNT", uv_key(day));
  co_return co_await redis::exec_one<int64_t>(c, std::move(request));
}

boost::asio::awaitable<Result<VisitorCounts>> count_visitors(redis::Client& c, core::Date first,
                                                             core::Date last) {
  std::vector<redis::Request> requests;
  redis::Request all;  // the union: every day's key shares the {uv} slot
  all.key_index = 1;
  all.args.push_back("PFCOUNT");
  for (int64_t day = core::days_from_civil(first); day <= core::days_from_civil(last); ++day) {
    all.args.push_back(uv_key(core::civil_from_days(day)));
    requests.push_back(redis::Request::keyed(1, "PFCOUNT", all.args.back()));
  }
  requests.push_back(std::move(all));
  auto counts = co_await redis::exec_each<int64_t>(c, std::move(requests));
  if (!counts) co_return counts.error();
  VisitorCounts out;
  out.total = counts->back();
  counts->pop_back();
  out.per_day = std::move(*counts);
  co_return out;
}

boost::asio::awaitable<Result<size_t>> adopt_untagged_visitor_logs(redis::Client& c) {
  if (c.is_cluster()) co_return size_t{0};
  auto old = co_await c.scan("uv:????????");
  if (!old) co_return old.error();
  for (const auto& key : *old) {
    std::string tagged = "{uv}:" + key.substr(3);
    // PFMERGE keeps what was counted under the new name already (a visitor in both counts once).
    auto merged = co_await redis::exec_as<redis::Done, redis::Done>(
        c, redis::batch(redis::Request::keyed(1, "PFMERGE", tagged, tagged, key),
                        redis::Request::keyed(1, "DEL", key)));
    if (!merged) co_return merged.error();
  }
  co_return old->size();
}

}  // namespace surge::social
