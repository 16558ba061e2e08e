// Prometheus text rendering of the per-worker slots.
#include "http/metrics.h"

#include <fmt/format.h>

#include "core/exposition.h"

namespace surge::http {

Metrics::Metrics(size_t workers, std::vector<std::string> routes)
    : routes_(std::move(routes)),
      workers_(workers),
      slots_(std::make_unique<Slot[]>(workers * (routes_.size() + 1))) {}

void Metrics::record(size_t worker, size_t route, unsigned status, double seconds) {
  if (worker >= workers_ || route > routes_.size()) return;
  Slot& s = slots_[worker * (routes_.size() + 1) + route];
  size_t cls = status / 100;
  if (cls >= 1 && cls <= 5) bump(s.by_class[cls - 1]);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  bump(s.buckets[b]);
  bump(s.sum_micros, static_cast<uint64_t>(seconds * 1e6));
}

void Metrics::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
  std::string out;
  auto it = std::back_inserter(out);
  const size_t nroutes = routes_.size() + 1;
  auto name = [&](size_t r) -> std::string_view {
    return r < routes_.size() ? std::string_view(routes_[r]) : std::string_view("unmatched");
  };
  auto load = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };

  core::Exposition e(out);
  e.family("surge_http_requests_total", "counter",
           "HTTP requests answered, by route and status class.");
  for (size_t r = 0; r < nroutes; ++r) {
    for (size_t c = 0; c < 5; ++c) {
      uint64_t total = 0;
      for (size_t w = 0; w < workers_; ++w) total += load(slots_[w * nroutes + r].by_class[c]);
      if (total == 0) continue;
      fmt::format_to(it, "surge_http_requests_total{{route=\"{}\",code=\"{}xx\"}} {}\n", name(r),
                     c + 1, total);
    }
  }
  e.family("surge_http_request_duration_seconds", "histogram",
           "Time from parsed request to response.");
  for (size_t r = 0; r < nroutes; ++r) {
    std::array<uint64_t, kBuckets.size() + 1> counts{};
    uint64_t micros = 0;
    for (size_t w = 0; w < workers_; ++w) {
      const Slot& s = slots_[w * nroutes + r];
      for (size_t b = 0; b < counts.size(); ++b) counts[b] += load(s.buckets[b]);
      micros += load(s.sum_micros);
    }
    uint64_t total = 0;
    for (auto c : counts) total += c;
    if (total == 0) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += counts[b];
      fmt::format_to(it,
                     "surge_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     name(r), kBuckets[b], cumulative);
    }
    fmt::format_to(it,
                   "surge_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                   name(r), total);
    fmt::format_to(it, "surge_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", name(r),
                   static_cast<double>(micros) / 1e6);
    fmt::format_to(it, "surge_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", name(r),
                   total);
  }
  std::lock_guard lock(collectors_mu_);
  for (const auto& c : collectors_) c(out);
  return out;
}

}  // namespace surge::http
