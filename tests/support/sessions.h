// Sessions for users written straight into the fixture Redis, as the login route would, so a
// suite can act as many buyers without sending a login code for each.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "core/user.h"
#include "redis/client.h"
#include "redis/connection.h"
#include "social/sessions.h"
#include "support/drive.h"
#include "support/stores.h"

namespace surge::test {

// Owns an io_context and one connection to the fixture Redis (where sessions live, also when the
// sale runs on a cluster).
class TestSessions {
 public:
  TestSessions()
      : conn_(redis::Connection::create(ctx_.get_executor(), stores().redis)), client_(*conn_) {
    conn_->start();
    EXPECT_TRUE(run_co(ctx_, conn_->wait_ready(std::chrono::seconds(3))));
  }
  ~TestSessions() {
    conn_->stop();
    drive_for(ctx_, std::chrono::milliseconds(20));
  }
  // The authorization header line for a fresh 30-minute session of `user`.
  std::string login(int64_t user) {
    core::LoggedInUser u{user, "user_" + std::to_string(user), ""};
    auto token = run_co(ctx_, social::Sessions(std::chrono::minutes(30)).open(client_, u));
    EXPECT_TRUE(token);
    return "authorization: " + token.value();
  }
  redis::Client& redis() { return client_; }
  redis::Connection& connection() { return *conn_; }
  boost::asio::io_context& ctx() { return ctx_; }

 private:
  boost::asio::io_context ctx_;
  std::shared_ptr<redis::Connection> conn_;
  redis::NodeClient client_;  // the engines' view of conn_
};

}  // namespace surge::test
