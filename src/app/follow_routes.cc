// /follow/**: follow and unfollow, "do I follow X", and the users two people both follow. The
// engine (tb_follow and its Redis mirror) is social::Follows; this file parses and renders.
#include <boost/json/value.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/routes.h"
#include "core/parse.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

class FollowApi {
 public:
  explicit FollowApi(Services& s) : s_(s) {}

  // PUT /follow/{id}/{isFollow}: true follows, false unfollows; both are idempotent.
  awaitable<Response> follow(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    std::string_view flag = ctx.params[1];
    if (flag != "true" && flag != "false") co_return bad_request("isFollow must be true or false");
    redis::Client& r = s_.local_redis();
    if (flag == "false") {
      auto removed = co_await s_.follow_graph->unfollow(r, ctx.me().id, *id);
      if (!removed) co_return error_response(removed.error());
      co_return http::json(200, envelope::ok());
    }
    auto added = co_await s_.follow_graph->follow(r, ctx.me().id, *id);
    if (!added) co_return error_response(added.error());
    if (*added == social::FollowOutcome::kSelf) co_return business_failure("不能关注自己");
    if (*added == social::FollowOutcome::kNoSuchUser) co_return business_failure("用户不存在");
    co_return http::json(200, envelope::ok());
  }

  // GET /follow/or/not/{id} → data: boolean, from the database.
  awaitable<Response> is_following(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto yes = co_await s_.follow_graph->is_following(ctx.me().id, *id);
    if (!yes) co_return error_response(yes.error());
    co_return http::json(200, envelope::ok(json::value(*yes)));
  }

  // GET /follow/common/{id} → the users both I and {id} follow, as UserDTOs.
  awaitable<Response> common(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto users = co_await s_.follow_graph->common(s_.local_redis(), ctx.me().id, *id);
    if (!users) co_return error_response(users.error());
    co_return http::json(200, envelope::ok_raw(to_json(*users)));
  }

 private:
  Services& s_;
};

}  // namespace

void register_follow_routes(RouteTable& t) {
  auto api = std::make_shared<FollowApi>(t.services());
  using enum Access;
  t.add(verb::put, "/follow/{id}/{isFollow}", kLogin, api, &FollowApi::follow);
  t.add(verb::get, "/follow/or/not/{id}", kLogin, api, &FollowApi::is_following);
  t.add(verb::get, "/follow/common/{id}", kLogin, api, &FollowApi::common);
}

}  // namespace surge::app
