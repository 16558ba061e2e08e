// Snapshots to and from JSON, and the publishing loop.
#include "app/dashboard_feed.h"

#include <chrono>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/service.h"
#include "core/exposition.h"

namespace surge::app {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// Published every second; a value lives three, so one late publish does not drop an instance
// and a stopped one is gone within three seconds.
constexpr std::chrono::milliseconds kPeriod{1000};
constexpr std::chrono::milliseconds kTtl{3000};

json::object to_json(const sale::OrderQueues::VoucherCounts& v) {
  return {{"id", v.voucher_id},     {"shard", v.shard},   {"stock", v.stock},
          {"accepted", v.accepted}, {"queued", v.queued}, {"persisted", v.persisted},
          {"dead", v.dead}};
}

json::object to_json(const sale::OrderQueues::ShardBacklog& b) {
  return {{"shard", b.shard},     {"length", b.length},     {"unread", b.unread},
          {"pending", b.pending}, {"dead", b.dead_letters}, {"grouped", b.grouped}};
}

}  // namespace

DashboardFeed::DashboardFeed(Services& s, std::string instance)
    : s_(s),
      instance_(std::move(instance)),
      heartbeats_("dashboard:instance", kTtl),
      queues_(*s.sale),
      figures_(queues_, *s.vouchers, *s.clock, sale::SaleFigures::Options{}) {}

json::object DashboardFeed::snapshot() const {
  json::array samples;
  for (auto& p : core::parse_exposition(s_.metrics->render())) {
    if (p.value == 0) continue;
    json::object labels;
    for (auto& [k, v] : p.labels) labels.emplace(k, v);
    samples.push_back(json::object{{"n", p.name}, {"l", std::move(labels)}, {"v", p.value}});
  }
  return {{"instance", instance_},
          {"time_ms", s_.clock->now_ms()},
          {"draining", s_.draining.load()},
          {"samples", std::move(samples)}};
}

asio::awaitable<json::object> DashboardFeed::data(redis::Client& redis) {
  json::object self = snapshot();
  json::object out{
      {"instance", instance_}, {"time_ms", self.at("time_ms")}, {"draining", self.at("draining")}};
  json::object errors;
  json::array instances;
  auto live = co_await heartbeats_.live(redis);
  if (!live) errors.emplace("instances", live.error().message());
  bool self_added = false;
  auto add_self = [&] {
    instances.push_back(std::move(self));
    self_added = true;
  };
  if (live) {
    for (const auto& [name, value] : *live) {
      if (!self_added && name >= instance_) add_self();
      if (name == instance_) continue;  // the fresh copy instead
      boost::system::error_code ec;
      auto v = json::parse(value, ec);
      if (!ec && v.is_object()) instances.push_back(std::move(v));
    }
  }
  if (!self_added) add_self();
  out.emplace("instances", std::move(instances));
  if (auto f = co_await figures_.current(redis); !f) {
    out.emplace("sale", nullptr);
    errors.emplace("sale", f.error().message());
  } else {
    json::array vouchers, shards;
    for (const auto& v : (*f)->summary.vouchers) vouchers.push_back(to_json(v));
    for (const auto& b : (*f)->summary.shards) shards.push_back(to_json(b));
    out.emplace("sale", json::object{{"time_ms", (*f)->at_ms},
                                     {"vouchers", std::move(vouchers)},
                                     {"shards", std::move(shards)}});
  }
  out.emplace("errors", std::move(errors));
  co_return out;
}

asio::awaitable<std::string> DashboardFeed::sale_metrics(redis::Client& redis) {
  std::string out;
  auto f = co_await figures_.current(redis, sale::SaleFigures::Wait::kWhenStale);
  if (f) sale::SaleFigures::render_metrics(**f, s_.clock->now_ms(), out);
  co_return out;
}

void DashboardFeed::start(asio::io_context& worker0) {
  timer_ = std::make_unique<asio::steady_timer>(worker0);
  asio::co_spawn(worker0, publish_loop(), asio::detached);
}

void DashboardFeed::stop() {
  stopped_ = true;
  if (timer_) asio::post(timer_->get_executor(), [this] { timer_->cancel(); });
}

asio::awaitable<void> DashboardFeed::publish_loop() {
  bool failing = false;
  while (!stopped_) {
    auto r = co_await heartbeats_.publish(*s_.redis.at(0), instance_, json::serialize(snapshot()));
    // Said once per outage: the page then lacks this instance, nothing else is affected.
    if (!r && !failing) {
      spdlog::warn("dashboard: cannot publish this instance's figures ({})", r.error().message());
    }
    failing = !r;
    timer_->expires_after(kPeriod);
    co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace surge::app
