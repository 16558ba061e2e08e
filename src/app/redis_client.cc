// Surge's Redis: one node or a cluster.
#include "app/redis_client.h"

#include "redis/cluster.h"

namespace surge::app {

std::shared_ptr<redis::Client> redis_client(boost::asio::any_io_executor ex, const Config& config,
                                            redis::Options node) {
  if (config.redis_cluster.empty()) return redis::NodeClient::create(std::move(ex), node);
  redis::ClusterOptions o;
  o.seeds = *redis::parse_seeds(config.redis_cluster);  // checked by the flag
  o.node = std::move(node);
  return redis::ClusterClient::create(std::move(ex), std::move(o));
}

sale::ShardClientFactory order_writer_clients(boost::asio::any_io_executor ex,
                                              const Config& config) {
  return [ex, &config](const std::string& name, std::chrono::milliseconds request_timeout) {
    auto o = config.redis;
    o.client_name = name;
    o.request_timeout = request_timeout;
    return redis_client(ex, config, std::move(o));
  };
}

std::shared_ptr<redis::Connection> subscriber(boost::asio::any_io_executor ex, const Config& config,
                                              redis::Options node) {
  if (!config.redis_cluster.empty()) {
    auto seeds = *redis::parse_seeds(config.redis_cluster);  // checked by the flag
    node.host = seeds.front().host;
    node.port = seeds.front().port;
    node.db = 0;
    node.alternates.assign(seeds.begin() + 1, seeds.end());
  }
  return redis::Connection::create(std::move(ex), std::move(node));
}

}  // namespace surge::app
