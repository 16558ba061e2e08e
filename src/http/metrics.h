// Request counters and latency histograms per route, in Prometheus text format. Each worker
// writes only its own slots (single writer, relaxed atomics, no lock-prefixed instructions);
// /metrics sums them from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace surge::http {

class Metrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  // `routes` names each route id; one extra slot counts requests no route matched.
  Metrics(size_t workers, std::vector<std::string> routes);

  void record(size_t worker, size_t route, unsigned status, double seconds);
  size_t unmatched_route() const { return routes_.size(); }

  // Collectors append their own metric families to the rendered text (other layers' counters).
  void add_collector(std::function<void(std::string&)> collector);
  std::string render() const;

 private:
  struct Slot {
    std::array<std::atomic<uint64_t>, 5> by_class{};  // 1xx..5xx
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> sum_micros{0};
  };
  static void bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::vector<std::string> routes_;
  size_t workers_;
  std::unique_ptr<Slot[]> slots_;  // [worker][route]
  mutable std::mutex collectors_mu_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace surge::http
