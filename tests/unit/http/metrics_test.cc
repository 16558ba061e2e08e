// Prometheus rendering of request counters and latency histograms, summed over workers.
#include "http/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace surge::http {
namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(Metrics, EmptyRenderHasHeadersOnly) {
  Metrics m(2, {"GET /a"});
  std::string out = m.render();
  EXPECT_TRUE(contains(out, "# TYPE surge_http_requests_total counter"));
  EXPECT_TRUE(contains(out, "# TYPE surge_http_request_duration_seconds histogram"));
  EXPECT_EQ(out.find("surge_http_requests_total{"), std::string::npos);
  EXPECT_EQ(out.find("_bucket{"), std::string::npos);
}

TEST(Metrics, CountsByRouteAndStatusClass) {
  Metrics m(1, {"GET /a", "GET /b"});
  m.record(0, 0, 200, 0.001);
  m.record(0, 0, 204, 0.001);
  m.record(0, 0, 404, 0.001);
  m.record(0, 1, 503, 0.001);
  m.record(0, m.unmatched_route(), 404, 0.0);
  std::string out = m.render();
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="GET /a",code="2xx"} 2)")) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="GET /a",code="4xx"} 1)")) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="GET /b",code="5xx"} 1)")) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="unmatched",code="4xx"} 1)")) << out;
  // Classes with no requests are not printed.
  EXPECT_EQ(out.find(R"(route="GET /b",code="2xx")"), std::string::npos);
}

TEST(Metrics, SumsAcrossWorkers) {
  Metrics m(3, {"GET /a"});
  m.record(0, 0, 200, 0.001);
  m.record(1, 0, 200, 0.001);
  m.record(2, 0, 200, 0.001);
  m.record(2, 0, 200, 0.001);
  std::string out = m.render();
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="GET /a",code="2xx"} 4)")) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_request_duration_seconds_count{route="GET /a"} 4)"))
      << out;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m(1, {"r"});
  m.record(0, 0, 200, 0.00005);  // le 0.0001
  m.record(0, 0, 200, 0.0001);   // boundary: still le 0.0001
  m.record(0, 0, 200, 0.003);    // le 0.005
  m.record(0, 0, 200, 0.2);      // le 0.25
  m.record(0, 0, 200, 10.0);     // only +Inf
  std::string out = m.render();
  auto bucket = [](const char* le, int n) {
    return std::string(R"(surge_http_request_duration_seconds_bucket{route="r",le=")") + le +
           "\"} " + std::to_string(n);
  };
  EXPECT_TRUE(contains(out, bucket("0.0001", 2))) << out;
  EXPECT_TRUE(contains(out, bucket("0.00025", 2))) << out;
  EXPECT_TRUE(contains(out, bucket("0.0025", 2))) << out;
  EXPECT_TRUE(contains(out, bucket("0.005", 3))) << out;
  EXPECT_TRUE(contains(out, bucket("0.1", 3))) << out;
  EXPECT_TRUE(contains(out, bucket("0.25", 4))) << out;
  EXPECT_TRUE(contains(out, bucket("2.5", 4))) << out;
  EXPECT_TRUE(contains(out, bucket("+Inf", 5))) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_request_duration_seconds_count{route="r"} 5)")) << out;
}

TEST(Metrics, SumIsInSeconds) {
  Metrics m(2, {"r"});
  // Binary fractions, so the microsecond conversion is exact.
  m.record(0, 0, 200, 0.5);
  m.record(1, 0, 200, 0.25);
  m.record(1, 0, 500, 2.0);
  std::string out = m.render();
  EXPECT_TRUE(contains(out, R"(surge_http_request_duration_seconds_sum{route="r"} 2.75)")) << out;
  EXPECT_TRUE(contains(out, R"(surge_http_request_duration_seconds_count{route="r"} 3)")) << out;
}

TEST(Metrics, EveryBucketLineIsPrintedInOrder) {
  Metrics m(1, {"r"});
  m.record(0, 0, 200, 0.01);
  std::string out = m.render();
  size_t pos = 0;
  for (double le : Metrics::kBuckets) {
    (void)le;
    size_t next = out.find("surge_http_request_duration_seconds_bucket{route=\"r\"", pos);
    ASSERT_NE(next, std::string::npos);
    pos = next + 1;
  }
  size_t inf = out.find(R"(le="+Inf")", pos);
  EXPECT_NE(inf, std::string::npos);
  // Exactly kBuckets.size() finite buckets plus +Inf.
  size_t count = 0;
  for (size_t p = 0; (p = out.find("_bucket{", p)) != std::string::npos; ++p) ++count;
  EXPECT_EQ(count, Metrics::kBuckets.size() + 1);
}

TEST(Metrics, OutOfRangeRecordsAreIgnored) {
  Metrics m(1, {"r"});
  m.record(5, 0, 200, 0.001);  // no such worker
  m.record(0, 7, 200, 0.001);  // no such route
  std::string out = m.render();
  EXPECT_EQ(out.find("surge_http_requests_total{"), std::string::npos) << out;
  EXPECT_EQ(out.find("_count{"), std::string::npos) << out;
}

TEST(Metrics, CollectorsAppendTheirText) {
  Metrics m(1, {"r"});
  m.add_collector([](std::string& out) { out += "# TYPE extra_total counter\nextra_total 7\n"; });
  m.add_collector([](std::string& out) { out += "second 1\n"; });
  std::string out = m.render();
  size_t a = out.find("extra_total 7\n");
  size_t b = out.find("second 1\n");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);                                      // registration order
  EXPECT_LT(out.find("surge_http_requests_total"), a);  // after the built-in families
  // Rendering twice calls collectors again rather than caching.
  EXPECT_NE(m.render().find("extra_total 7\n"), std::string::npos);
}

TEST(Metrics, WorkersRecordConcurrentlyWithoutLoss) {
  constexpr int kPerWorker = 20000;
  Metrics m(4, {"r"});
  std::vector<std::thread> threads;
  for (size_t w = 0; w < 4; ++w) {
    threads.emplace_back([&m, w] {
      for (int i = 0; i < kPerWorker; ++i) m.record(w, 0, 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  std::string out = m.render();
  EXPECT_TRUE(contains(out, R"(surge_http_requests_total{route="r",code="2xx"} 80000)")) << out;
}

}  // namespace
}  // namespace surge::http
