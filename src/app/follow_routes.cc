// /follow/**: follow and unfollow (tb_follow is the truth, follows:{id} its Redis mirror for
// set intersections), "do I follow X", and the users two people both follow.
#include <map>

#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/routes.h"
#include "core/parse.h"
#include "http/envelope.h"
#include "redis/commands.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

std::string follows_key(int64_t user_id) { return "follows:" + std::to_string(user_id); }

class FollowApi {
 public:
  explicit FollowApi(Services& s) : s_(s) {}

  // PUT /follow/{id}/{isFollow}: true follows, false unfollows; both are idempotent.
  awaitable<Response> follow(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    std::string_view flag = ctx.params[1];
    if (flag != "true" && flag != "false") co_return bad_request("isFollow must be true or false");
    int64_t me = ctx.user->id;
    redis::Connection& r = s_.redis_for(ctx.worker);
    std::vector<std::string> member{std::to_string(*id)};
    if (flag == "false") {
      auto removed = co_await s_.follows.unfollow(me, *id);
      if (!removed) co_return error_response(removed.error());
      auto mirrored = co_await redis::srem(r, follows_key(me), std::move(member));
      if (!mirrored) co_return error_response(mirrored.error());
      co_return http::json(200, envelope::ok());
    }
    if (*id == me) co_return business_failure("不能关注自己");
    auto target = co_await s_.users.find(*id);
    if (!target) co_return error_response(target.error());
    if (!*target) co_return business_failure("用户不存在");
    auto added = co_await s_.follows.follow(me, *id);
    if (!added) co_return error_response(added.error());
    // Also when the row already existed: that repairs a mirror that lost the member.
    auto mirrored = co_await redis::sadd(r, follows_key(me), std::move(member));
    if (!mirrored) co_return error_response(mirrored.error());
    co_return http::json(200, envelope::ok());
  }

  // GET /follow/or/not/{id} → data: boolean, from the database.
  awaitable<Response> is_following(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto yes = co_await s_.follows.is_following(ctx.user->id, *id);
    if (!yes) co_return error_response(yes.error());
    co_return http::json(200, envelope::ok(json::value(*yes)));
  }

  // GET /follow/common/{id} → the users both I and {id} follow (SINTER), as UserDTOs.
  awaitable<Response> common(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    std::vector<std::string> keys{follows_key(ctx.user->id), follows_key(*id)};
    auto both = co_await redis::sinter(s_.redis_for(ctx.worker), std::move(keys));
    if (!both) co_return error_response(both.error());
    std::vector<int64_t> ids;
    for (const auto& m : *both) {
      if (auto uid = core::parse_id(m)) ids.push_back(*uid);
    }
    std::sort(ids.begin(), ids.end());
    auto users = co_await s_.users.find_many(std::move(ids));
    if (!users) co_return error_response(users.error());
    co_return http::json(200, envelope::ok_raw(to_json(*users)));
  }

 private:
  Services& s_;
};

}  // namespace

boost::asio::awaitable<void> load_follow_sets(Services& s) {
  auto pairs = co_await s.follows.all();
  if (!pairs) {
    spdlog::warn("follows: cannot read tb_follow ({}); common follows may be incomplete",
                 pairs.error().message());
    co_return;
  }
  std::map<int64_t, std::vector<int64_t>> by_user;
  for (auto [user, followed] : *pairs) by_user[user].push_back(followed);
  std::vector<redis::Command> commands;
  for (const auto& [user, followed] : by_user) {
    for (size_t i = 0; i < followed.size(); i += 500) {
      size_t n = std::min<size_t>(500, followed.size() - i);
      redis::Command c;
      c.begin(2 + n).arg("SADD").arg(follows_key(user));
      for (size_t j = i; j < i + n; ++j) c.arg(followed[j]);
      commands.push_back(std::move(c));
    }
  }
  auto done = co_await redis::bulk(s.redis_for(0), std::move(commands));
  if (!done || done->error_replies > 0) {
    spdlog::warn("follows: loading the Redis sets failed");
    co_return;
  }
  spdlog::info("follows: {} pairs of {} users in Redis", pairs->size(), by_user.size());
}

void register_follow_routes(RouteTable& t) {
  auto api = std::make_shared<FollowApi>(t.services());
  using enum Access;
  t.add(verb::put, "/follow/{id}/{isFollow}", kLogin, api, &FollowApi::follow);
  t.add(verb::get, "/follow/or/not/{id}", kLogin, api, &FollowApi::is_following);
  t.add(verb::get, "/follow/common/{id}", kLogin, api, &FollowApi::common);
}

}  // namespace surge::app
