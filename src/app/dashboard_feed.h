// What the live dashboard shows beyond one process: every live instance's figures and the flash
// sale's per-voucher figures from the stores. Each instance publishes a compact copy of its own
// /metrics samples to Redis once a second (redis::Heartbeats, a few seconds' TTL), so whichever
// instance serves /dashboard/data can return all of them; the sale's figures are
// sale::SaleFigures (the order queues' summary, at most once a second per instance).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "redis/heartbeats.h"
#include "sale/order_queues.h"
#include "sale/sale_figures.h"

namespace surge::app {

struct Services;

// The publishing loop runs on worker 0 (start()'s io_context) with worker 0's Redis connection;
// data() runs on any worker with that worker's connection. The services must outlive it.
class DashboardFeed {
 public:
  // `instance`: this process's name on the page (the order writer's consumer name).
  DashboardFeed(Services& s, std::string instance);

  const std::string& instance() const { return instance_; }
  void start(boost::asio::io_context& worker0);
  // Ends the loop (posted to worker 0); the instance leaves the page when its value expires.
  void stop();

  // {instance, time_ms, draining, samples: [{n, l, v}]}: this instance's samples, those that are
  // not zero (a zero counter and a missing one read the same on the page).
  boost::json::object snapshot() const;
  // {instance, time_ms, draining, instances: [snapshot, ... by name, this one fresh],
  //  sale: {time_ms, vouchers: [...], shards: [...]} or null, errors: {part: message}}.
  boost::asio::awaitable<boost::json::object> data(redis::Client& redis);
  // The sale's figures as Prometheus gauges, appended to /metrics (not to snapshot(): they are
  // the stores', not this instance's). Waits for new figures when the last are over a second
  // old; empty when there are none (stores that never answered).
  boost::asio::awaitable<std::string> sale_metrics(redis::Client& redis);

 private:
  boost::asio::awaitable<void> publish_loop();

  Services& s_;
  std::string instance_;
  redis::Heartbeats heartbeats_;
  sale::OrderQueues queues_;
  sale::SaleFigures figures_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> stopped_{false};
};

}  // namespace surge::app
