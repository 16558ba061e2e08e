// /stats/uv: unique visitors of one day (PFCOUNT uv:{yyyyMMdd}) or of a date range (each day,
// and the union over the range, which counts a visitor of several days once).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/routes.h"
#include "app/uv_recorder.h"
#include "core/calendar.h"
#include "http/envelope.h"
#include "redis/commands.h"

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
    redis::Connection& r = s_.redis_for(ctx.worker);
    if (auto date = ctx.query_param("date")) {
      auto d = core::parse_date(*date);
      if (!d) co_return bad_request("invalid date (YYYY-MM-DD)");
      std::vector<std::string> keys{uv_key(*d)};
      auto n = co_await redis::pfcount(r, std::move(keys));
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

    // Each day's count and the union, in one round trip.
    redis::Command cmd;
    std::vector<std::string> keys;
    for (int64_t day = first; day <= last; ++day) {
      keys.push_back(uv_key(core::civil_from_days(day)));
      cmd.add("PFCOUNT", keys.back());
    }
    cmd.begin(1 + keys.size()).arg("PFCOUNT");
    for (const auto& k : keys) cmd.arg(k);
    auto replies = co_await r.exec_all(std::move(cmd));
    if (!replies) co_return error_response(replies.error());
    json::array days;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto n = redis::to_integer(Result<redis::Reply>((*replies)[i]));
      if (!n) co_return error_response(n.error());
      json::object day;
      day.emplace("date", core::format_date(core::civil_from_days(first + int64_t(i))));
      day.emplace("uv", *n);
      days.push_back(std::move(day));
    }
    auto total = redis::to_integer(Result<redis::Reply>(replies->back()));
    if (!total) co_return error_response(total.error());
    json::object data;
    data.emplace("from", core::format_date(*from));
    data.emplace("to", core::format_date(*to));
    data.emplace("total", *total);
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
