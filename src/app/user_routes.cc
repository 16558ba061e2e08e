// /user/**: login codes (rate limited), login and logout, the current user, profiles, and daily
// check-ins. The engines live in src/social; this file parses, calls one of them, and renders.
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>

#include "app/errors.h"
#include "app/json.h"
#include "app/request.h"
#include "app/routes.h"
#include "core/parse.h"
#include "core/social.h"
#include "http/envelope.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

// data: the value, or success without data when there is none (the original's ok(null)).
template <class T>
Response ok_or_empty(const Result<std::optional<T>>& found) {
  if (!found) return error_response(found.error());
  if (!*found) return http::json(200, envelope::ok());
  return http::json(200, envelope::ok_raw(to_json(**found)));
}

class UserApi {
 public:
  explicit UserApi(Services& s) : s_(s) {}

  // POST /user/code?phone=
  awaitable<Response> send_code(Context& ctx) {
    std::string phone = ctx.query_param("phone").value_or("");
    if (!core::is_valid_phone(phone)) co_return business_failure("手机号格式错误");
    auto issued = co_await s_.login_codes->issue(s_.local_redis(), phone,
                                                 client_address(ctx, s_.trusted_proxies));
    if (!issued) co_return error_response(issued.error());
    if (issued->retry_after_ms > 0) {
      co_return http::json(429, envelope::fail(fmt::format("发送过于频繁，请{}秒后再试",
                                                           (issued->retry_after_ms + 999) / 1000)));
    }
    // No SMS gateway: in development the log (and the answer) is the delivery channel; in
    // production a code in an info-level log would be a login for anyone who reads the logs.
    spdlog::log(s_.config.social.dev_return_code ? spdlog::level::info : spdlog::level::debug,
                "login code for {}: {}", phone, issued->code);
    if (s_.config.social.dev_return_code) {
      co_return http::json(200, envelope::ok(json::value(issued->code)));
    }
    co_return http::json(200, envelope::ok());
  }

  // POST /user/login {phone, code}
  awaitable<Response> login(Context& ctx) {
    auto body = parse_object(ctx.request.body());
    if (auto* msg = std::get_if<std::string>(&body)) co_return bad_request(*msg);
    const auto& o = std::get<json::object>(body);
    const json::value* phone_v = o.if_contains("phone");
    const json::value* code_v = o.if_contains("code");
    if (!phone_v || !phone_v->is_string() || !core::is_valid_phone(phone_v->as_string())) {
      co_return business_failure("手机号格式错误");
    }
    if (!code_v || !code_v->is_string() || code_v->as_string().size() != 6) {
      co_return business_failure("验证码错误");
    }
    std::string phone(phone_v->as_string()), code(code_v->as_string());
    auto token = co_await s_.login->log_in(s_.local_redis(), std::move(phone), std::move(code));
    if (!token) co_return error_response(token.error());
    if (!*token) co_return business_failure("验证码错误");
    co_return http::json(200, envelope::ok(json::value(**token)));
  }

  // POST /user/logout: the session is gone at once (the original answered 功能未完成).
  awaitable<Response> logout(Context& ctx) {
    auto gone =
        co_await s_.sessions->close(s_.local_redis(), std::string(ctx.header("authorization")));
    if (!gone) co_return error_response(gone.error());
    co_return http::json(200, envelope::ok());
  }

  awaitable<Response> me(Context& ctx) {
    co_return http::json(200, envelope::ok_raw(to_json(ctx.me())));
  }

  // GET /user/info/{id}: the profile, or success without data when there is none.
  awaitable<Response> info(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto info = co_await s_.users.info(*id);
    co_return ok_or_empty(info);
  }

  // GET /user/{id}: UserDTO, or success without data.
  awaitable<Response> user_by_id(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto user = co_await s_.users.find(*id);
    co_return ok_or_empty(user);
  }

  // DELETE /user/sessions/{id} (administrator): logs the user out everywhere; the data is how
  // many sessions were still live.
  awaitable<Response> close_sessions(Context& ctx) {
    auto id = core::parse_id(ctx.params[0]);
    if (!id) co_return bad_request("invalid user id");
    auto closed = co_await s_.sessions->close_all(s_.local_redis(), *id);
    if (!closed) co_return error_response(closed.error());
    spdlog::info("sessions: user {} logged out everywhere ({} sessions)", *id, *closed);
    co_return http::json(200, envelope::ok(json::value(*closed)));
  }

  // POST /user/sign: today's check-in; signing twice is a no-op.
  awaitable<Response> sign(Context& ctx) {
    auto set = co_await s_.check_ins->sign(s_.local_redis(), ctx.me().id);
    if (!set) co_return error_response(set.error());
    co_return http::json(200, envelope::ok());
  }

  // GET /user/sign/count: consecutive signed days ending today.
  awaitable<Response> sign_count(Context& ctx) {
    auto count = co_await s_.check_ins->streak(s_.local_redis(), ctx.me().id);
    if (!count) co_return error_response(count.error());
    co_return http::json(200, envelope::ok(json::value(*count)));
  }

 private:
  Services& s_;
};

}  // namespace

void register_user_routes(RouteTable& t) {
  auto api = std::make_shared<UserApi>(t.services());
  using enum Access;
  t.add(verb::post, "/user/code", kPublic, api, &UserApi::send_code);
  t.add(verb::post, "/user/login", kPublic, api, &UserApi::login);
  t.add(verb::post, "/user/logout", kLogin, api, &UserApi::logout);
  t.add(verb::get, "/user/me", kLogin, api, &UserApi::me);
  t.add(verb::get, "/user/info/{id}", kLogin, api, &UserApi::info);
  t.add(verb::get, "/user/{id}", kLogin, api, &UserApi::user_by_id);
  t.add(verb::delete_, "/user/sessions/{id}", kAdmin, api, &UserApi::close_sessions);
  t.add(verb::post, "/user/sign", kLogin, api, &UserApi::sign);
  t.add(verb::get, "/user/sign/count", kLogin, api, &UserApi::sign_count);
}

}  // namespace surge::app
