// Logging in with a phone and its code: the code is redeemed, the first login creates the user
// (the original's nick_name form, user_ + 10 of [a-z0-9]), and a session is opened.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/error.h"
#include "db/user_repository.h"
#include "redis/client.h"
#include "social/login_codes.h"
#include "social/sessions.h"

namespace surge::social {

// Stateless; shared by every worker. Borrows its parts, which must outlive it.
class Login {
 public:
  Login(LoginCodes& codes, Sessions& sessions, db::UserRepository& users)
      : codes_(codes), sessions_(sessions), users_(users) {}

  // The new session's token, or nullopt when the code is wrong, expired, used or withdrawn.
  boost::asio::awaitable<Result<std::optional<std::string>>> log_in(redis::Client& c,
                                                                    std::string phone,
                                                                    std::string code);

 private:
  LoginCodes& codes_;
  Sessions& sessions_;
  db::UserRepository& users_;
};

}  // namespace surge::social
