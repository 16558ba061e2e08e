// Code, user row, session: in that order, so a wrong code touches neither table nor session.
#include "social/login.h"

#include "common/random.h"

namespace surge::social {

boost::asio::awaitable<Result<std::optional<std::string>>> Login::log_in(redis::Client& c,
                                                                         std::string phone,
                                                                         std::string code) {
  auto redeemed = co_await codes_.redeem(c, phone, std::move(code));
  if (!redeemed) co_return redeemed.error();
  if (*redeemed != Redeemed::kMatch) co_return std::optional<std::string>();
  auto user = co_await users_.find_or_create(
      phone, "user_" + random_string(10, "abcdefghijklmnopqrstuvwxyz0123456789"));
  if (!user) co_return user.error();
  // Named, not a temporary in the co_await expression (GCC 12 mishandles those).
  core::LoggedInUser who{user->id, user->nick_name, user->icon};
  auto token = co_await sessions_.open(c, std::move(who));
  if (!token) co_return token.error();
  co_return std::optional<std::string>(std::move(*token));
}

}  // namespace surge::social
