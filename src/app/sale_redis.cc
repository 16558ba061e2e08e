// The sale's Redis: one node or a cluster.
#include "app/sale_redis.h"

#include "redis/cluster.h"

namespace surge::app {

std::shared_ptr<redis::Client> sale_client(boost::asio::any_io_executor ex, const Config& config,
                                           redis::Options node) {
  if (config.redis_cluster.empty()) return redis::NodeClient::create(std::move(ex), node);
  redis::ClusterOptions o;
  o.seeds = *redis::parse_seeds(config.redis_cluster);  // checked by the flag
  o.node = std::move(node);
  return redis::ClusterClient::create(std::move(ex), std::move(o));
}

sale::ShardClientFactory sale_shard_clients(boost::asio::any_io_executor ex, const Config& config) {
  return [ex, &config](const std::string& name, std::chrono::milliseconds request_timeout) {
    auto o = config.redis;
    o.client_name = name;
    o.request_timeout = request_timeout;
    return sale_client(ex, config, std::move(o));
  };
}

}  // namespace surge::app
