// The completion of one raw redis::Connection::async_exec, for tests that watch several commands
// at once (order, timeouts, cancellation). Held by shared_ptr, so a completion that runs after a
// failed test has returned still writes to live memory.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "redis/connection.h"

namespace surge::test {

struct Outcome {
  std::optional<error_code> ec;
  std::vector<redis::Reply> replies;
  redis::Clock::time_point at;

  bool done() const { return ec.has_value(); }
  // The last reply's string, or a description of what came back instead.
  std::string str() const {
    if (!ec) return "<pending>";
    if (*ec) return "<error: " + ec->message() + ">";
    return replies.empty() ? "<no reply>" : replies.back().str;
  }
};
using OutcomePtr = std::shared_ptr<Outcome>;

inline auto record(OutcomePtr out) {
  return [out](error_code ec, std::vector<redis::Reply> v) {
    out->ec = ec;
    out->replies = std::move(v);
    out->at = redis::Clock::now();
  };
}

inline OutcomePtr submit(const std::shared_ptr<redis::Connection>& conn, redis::Command c) {
  auto out = std::make_shared<Outcome>();
  conn->async_exec(std::move(c), record(out));
  return out;
}

inline OutcomePtr submit(const std::shared_ptr<redis::Connection>& conn, redis::Command c,
                         boost::asio::cancellation_slot slot) {
  auto out = std::make_shared<Outcome>();
  conn->async_exec(std::move(c), boost::asio::bind_cancellation_slot(slot, record(out)));
  return out;
}

inline bool all_done(const std::vector<OutcomePtr>& v) {
  for (const auto& o : v) {
    if (!o->done()) return false;
  }
  return true;
}

}  // namespace surge::test
