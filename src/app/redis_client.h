// Where Surge's Redis is: one node (--redis-host/--redis-port) or a Redis Cluster
// (--redis-cluster). Every engine takes a redis::Client and never asks which; this is the one
// place that decides.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "app/config.h"
#include "redis/client.h"
#include "redis/connection.h"
#include "sale/order_writer.h"

namespace surge::app {

// A client on `ex`: a cluster client when config.redis_cluster is set (its node connections made
// from `node`, whose host and port are replaced), else one connection to `node`.
std::shared_ptr<redis::Client> redis_client(boost::asio::any_io_executor ex, const Config& config,
                                            redis::Options node);
// The order writer's shard clients, the same way.
sale::ShardClientFactory order_writer_clients(boost::asio::any_io_executor ex,
                                              const Config& config);
// The pub/sub subscriber: on the node, or on a cluster's first seed with the other seeds as
// alternates. Classic PUBLISH reaches every node of a cluster, so any node hears every channel;
// when the one it listens on dies, it moves to the next.
std::shared_ptr<redis::Connection> subscriber(boost::asio::any_io_executor ex, const Config& config,
                                              redis::Options node);

}  // namespace surge::app
