// Unique visitors per day: every routed request adds its visitor (user id when logged in, client
// address otherwise) to the HyperLogLog uv:{yyyyMMdd} of the server's local day. Recording never
// waits and never fails a request: each worker batches visitors and keeps at most one PFADD in
// flight, and skips visitors it already sent today.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/calendar.h"
#include "redis/connection.h"

namespace surge::app {

// The HyperLogLog of one day.
std::string uv_key(core::Date day);

// Per-worker state, each touched only on its worker's thread. Borrows the connections, which
// must outlive it (Services owns both).
class UvRecorder {
 public:
  explicit UvRecorder(std::vector<redis::Connection*> connections);

  void record(size_t worker, std::string_view visitor, int64_t now_ms);

 private:
  struct Worker {
    redis::Connection* conn = nullptr;
    std::string key;  // today's
    int64_t day_ends_at_ms = 0;
    std::vector<std::string> pending;
    std::unordered_set<std::string> sent;  // visitors already in today's log
    bool in_flight = false;
  };
  void flush(size_t worker);

  std::vector<Worker> workers_;
};

}  // namespace surge::app
