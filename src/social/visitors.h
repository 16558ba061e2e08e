// Unique visitors per day: every routed request adds its visitor (user id when logged in, client
// address otherwise) to the HyperLogLog {uv}:yyyyMMdd of the server's local day. Recording never
// waits and never fails a request: each worker batches visitors and keeps at most one PFADD in
// flight, and skips visitors it already sent today. Counting reads the same logs.
//
// The keys are Surge's own (the original counted no visitors) and all share the hash tag {uv}:
// on a cluster every day's log is on one master, so the union of a range is one PFCOUNT over
// several keys there. The price is that one master takes every PFADD, which is light (one batch
// in flight per worker).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "core/calendar.h"
#include "core/string_hash.h"
#include "redis/client.h"

namespace surge::social {

// The HyperLogLog of one day.
std::string uv_key(core::Date day);

// Per-worker state, each touched only on its worker's thread. Borrows the clients, which must
// outlive it.
class UvRecorder {
 public:
  // A worker's io_context (where its batches are sent from) and its client, in worker order.
  struct WorkerClient {
    boost::asio::any_io_executor executor;
    redis::Client* client = nullptr;
  };
  explicit UvRecorder(std::vector<WorkerClient> workers);

  // On a worker thread: records the visitor in that worker's batch.
  void record(std::string_view visitor, int64_t now_ms);

 private:
  struct Worker {
    WorkerClient at;
    std::string key;  // today's
    int64_t day_ends_at_ms = 0;
    std::vector<std::string> pending;
    // Visitors already in today's log, looked up by view (most requests are repeat visits).
    std::unordered_set<std::string, core::StringHash, std::equal_to<>> sent;
    bool in_flight = false;
  };
  void flush(size_t worker);
  boost::asio::awaitable<void> send(size_t worker, std::string key, std::vector<std::string> batch);

  std::vector<Worker> workers_;
};

// Each day's count and the union over the range (a visitor of several days counts once).
struct VisitorCounts {
  std::vector<int64_t> per_day;  // from the first day on
  int64_t total = 0;
};

// Logs of a version before the {uv} hash tag (uv:yyyyMMdd) merged into today's names and
// deleted, so an upgrade keeps its counts; the number adopted. A single node only: a cluster
// never held the old names (and merging across slots is refused there).
boost::asio::awaitable<Result<size_t>> adopt_untagged_visitor_logs(redis::Client& c);

// The visitors of one day.
boost::asio::awaitable<Result<int64_t>> count_visitors(redis::Client& c, core::Date day);
// The visitors of every day from `first` to `last` (inclusive, first <= last), in one round trip.
boost::asio::awaitable<Result<VisitorCounts>> count_visitors(redis::Client& c, core::Date first,
                                                             core::Date last);

}  // namespace surge::social
