// Unique visitors: recorded by the route wrapper into uv:{yyyyMMdd}, read through /stats/uv for
// one day or a range (each day and the union).
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/calendar.h"
#include "support/api.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;

TEST(UvApi, CountsDistinctVisitorsOfToday) {
  SurgeServer server(api_flags());
  uint16_t port = server.port();
  std::string token = login(port, unique_phone());
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string today = core::format_date(core::local_day(now.count()).date);
  auto count = [&] {
    auto r = api(port, "GET", "/stats/uv?date=" + today, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().at("data").to_number<int64_t>();
  };
  int64_t before = count();
  // 100 new anonymous visitors, each twice, through a loopback "proxy".
  std::string net = "10.77." + std::to_string(::getpid() % 250) + ".";
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100; ++i) {
      auto r =
          api(port, "GET", "/blog/hot", "", "", "X-Real-IP: " + net + std::to_string(i) + "\r\n");
      ASSERT_EQ(r.status, 200);
    }
  }
  std::this_thread::sleep_for(200ms);  // the last batch's PFADD
  int64_t added = count() - before;
  // Other suites sharing the stores add a few visitors of their own meanwhile.
  EXPECT_GE(added, 100);
  EXPECT_LE(added, 130);
}

TEST(UvApi, DayAndRangeQueries) {
  SurgeServer server(api_flags());
  uint16_t port = server.port();
  std::string token = login(port, unique_phone());
  // Days long past that only this test writes.
  redis_cli("DEL uv:20010101 uv:20010102 uv:20010103");
  redis_cli("PFADD uv:20010101 a b c");
  redis_cli("PFADD uv:20010102 c d");
  redis_cli("PFADD uv:20010103 e");
  EXPECT_EQ(api(port, "GET", "/stats/uv?date=2001-01-01", token).body,
            R"({"success":true,"data":3})");
  EXPECT_EQ(api(port, "GET", "/stats/uv?date=2001-01-04", token).body,
            R"({"success":true,"data":0})");
  auto range = api(port, "GET", "/stats/uv?from=2001-01-01&to=2001-01-03", token);
  EXPECT_EQ(range.body,
            R"({"success":true,"data":{"from":"2001-01-01","to":"2001-01-03","total":5,"days":[)"
            R"({"date":"2001-01-01","uv":3},{"date":"2001-01-02","uv":2},)"
            R"({"date":"2001-01-03","uv":1}]}})");
  for (const char* bad : {"/stats/uv", "/stats/uv?date=2001-02-30", "/stats/uv?date=yesterday",
                          "/stats/uv?from=2001-01-03&to=2001-01-01",
                          "/stats/uv?from=2001-01-01&to=2003-01-01", "/stats/uv?from=2001-01-01"}) {
    auto r = api(port, "GET", bad, token);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
}

}  // namespace
}  // namespace surge::test
