// Where the flash sale's Redis is: one node (--redis-host) or a cluster (--redis-cluster). The
// sale's engines take a redis::Client and never ask which; this is the one place that decides.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "app/config.h"
#include "redis/client.h"
#include "sale/order_writer.h"

namespace surge::app {

// A client on `ex` for the sale: a cluster client when config.redis_cluster is set (node
// connections made from `node`, whose host and port are replaced), else `node` itself.
std::shared_ptr<redis::Client> sale_client(boost::asio::any_io_executor ex, const Config& config,
                                           redis::Options node);
// The order writer's shard clients, the same way.
sale::ShardClientFactory sale_shard_clients(boost::asio::any_io_executor ex, const Config& config);

}  // namespace surge::app
