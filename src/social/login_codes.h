// Login codes: six digits per phone with a short life, rate limited per client address and per
// phone (fixed windows that count only admitted requests), consumed once, and withdrawn after
// too many wrong guesses.
//
// Keys: login:code:{phone} and login:code:tries:{phone} share the phone's hash tag, so the redeem
// script that touches both runs on one node of a cluster. Each rate-limit counter
// limit:code:<scope>:<window s>:<window index> is a key of its own, read and admitted by
// single-key commands and scripts, so the counters may sit on any masters.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

struct CodeLimits {
  int64_t per_ip_hour = 20;
  int64_t per_phone_hour = 5;
  int64_t per_phone_minute = 1;
  int64_t code_ttl_ms = 120000;
  int64_t max_attempts = 5;  // attempts compared with one code; then it is withdrawn
};

// Either a fresh code, or how long until the caller may ask again.
struct IssuedCode {
  std::string code;            // empty when refused
  int64_t retry_after_ms = 0;  // > 0 when refused
};

// What a redeem attempt found. Every attempt on a live code counts, before the comparison.
enum class Redeemed {
  kMatch,     // the phone's current code: consumed, it logs in once
  kMismatch,  // compared and wrong (the last allowed one withdraws the code)
  kNoCode,    // nothing compared: never sent, expired, used, or out of attempts
};

// Immutable after construction; shared by every worker, each passing its own client. Borrows
// the clock, which must outlive it.
class LoginCodes {
 public:
  LoginCodes(CodeLimits limits, const Clock& clock) : limits_(limits), clock_(clock) {}

  // Checks every limit without consuming any, then admits against each; a refused request
  // consumes none of them. `client` is the caller's address.
  asio::awaitable<Result<IssuedCode>> issue(redis::Client& c, std::string phone,
                                            std::string client);
  // One attempt at the phone's code; at most max_attempts attempts are ever compared with one
  // code, however many arrive at once.
  asio::awaitable<Result<Redeemed>> redeem(redis::Client& c, std::string phone, std::string code);

 private:
  struct Limit {
    std::string scope;  // e.g. "phone:13800138000"
    int64_t max;
    int64_t window_ms;
  };
  asio::awaitable<Result<int64_t>> first_full(redis::Client& c, std::vector<Limit> limits);
  asio::awaitable<Result<int64_t>> admit(redis::Client& c, Limit limit);
  static std::string limit_key(const Limit& limit, int64_t window_index);

  CodeLimits limits_;
  const Clock& clock_;
};

}  // namespace surge::social
