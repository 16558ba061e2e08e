// /stats/uv: unique visitors of one day or of a date range (each day, and the union over the
// range, which counts a visitor of several days once). The counting lives in social/visitors.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/routes.h"
#include "core/calendar.h"
#include "http/envelope.h"
#include "social/visitors.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

constexpr int64_t kMaxRangeDays = 366;

class StatsApi {
 public:
  explicit StatsApi(Services& s) : s_(s) {}

  // GET /stats/uv?date=YYYY-MM-DD → data: count
  // GET /stats/uv?from=YYYY-MM-DD&to=YYYY-MM-DD → data: {from, to, total, days: [{date, uv}]}
  awaitable<Response> uv(Context& ctx) {
    redis::Client& r = s_.local_redis();
    if (auto date = ctx.query_param("date")) {
      auto d = core::parse_date(*date);
      if (!d) co_return bad_request("invalid date (YYYY-MM-DD)");
      auto n = co_await social::count_visitors(r, *d);
      if (!n) co_return error_response(n.error());
      co_return http::json(200, envelope::ok(json::value(*n)));
    }
    auto from_text = ctx.query_param("from"), to_text = ctx.query_param("to");
    if (!from_text || !to_text) co_return bad_request("date, or from and to, required");
    auto from = core::parse_date(*from_text), to = core::parse_date(*to_text);
    if (!from || !to) co_return bad_request("invalid date (YYYY-MM-DD)");
    int64_t first = core::days_from_civil(*from), last = core::days_from_civil(*to);
    if (last < first) co_return bad_request("from is after to");
    if (last - first + 1 > kMaxRangeDays) co_return bad_request("at most 366 days");

    auto counts = co_await social::count_visitors(r, *from, *to);
    if (!counts) co_return error_response(counts.error());
    json::array days;
    for (size_t i = 0; i < counts->per_day.size(); ++i) {
      json::object day;
      day.emplace("date", core::format_date(core::civil_from_days(first + int64_t(i))));
      day.emplace("uv", counts->per_day[i]);
      days.push_back(std::move(day));
    }
    json::object data;
    data.emplace("from", core::format_date(*from));
    data.emplace("to", core::format_date(*to));
    data.emplace("total", counts->total);
    data.emplace("days", std::move(days));
    co_return http::json(200, envelope::ok(data));
  }

 private:
  Services& s_;
};

}  // namespace

void register_stats_routes(RouteTable& t) {
  auto api = std::make_shared<StatsApi>(t.services());
  t.add(verb::get, "/stats/uv", Access::kLogin, api, &StatsApi::uv);
}

}  // namespace surge::app
