// Sessions for users written straight into the suite's Redis (the fixture node, or the cluster of
// a cluster.* entry), as the login route would, so a suite can act as many buyers without sending
// a login code for each.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "core/user.h"
#include "redis/client.h"
#include "social/sessions.h"
#include "support/drive.h"
#include "support/stores.h"

namespace surge::test {

// Owns an io_context and a client on the suite's Redis, or on the cluster `cluster` (a seed
// list), where `surge serve` looks sessions up.
class TestSessions {
 public:
  explicit TestSessions(const std::string& cluster = stores().redis_cluster)
      : client_(redis_client(ctx_.get_executor(), cluster)) {
    client_->start();
    EXPECT_TRUE(run_co(ctx_, client_->wait_ready(std::chrono::seconds(5))));
  }
  ~TestSessions() {
    client_->stop();
    drive_for(ctx_, std::chrono::milliseconds(20));
  }
  // The authorization header line for a fresh 30-minute session of `user`.
  std::string login(int64_t user) {
    auto line = try_login(user);
    EXPECT_TRUE(line) << "no session stored for user " << user;
    return line.value_or("");
  }
  // The same, or nullopt when Redis refused the write (a cluster shard failing over).
  std::optional<std::string> try_login(int64_t user) {
    core::LoggedInUser u{user, "user_" + std::to_string(user), ""};
    auto token = run_co(ctx_, social::Sessions(std::chrono::minutes(30)).open(*client_, u));
    if (!token) return std::nullopt;
    return "authorization: " + *token;
  }
  redis::Client& redis() { return *client_; }
  boost::asio::io_context& ctx() { return ctx_; }

 private:
  boost::asio::io_context ctx_;
  std::shared_ptr<redis::Client> client_;
};

}  // namespace surge::test
