// /user/**: login codes (rate limited), login and logout, the current user, profiles, and daily
// check-ins kept in one bitmap per user and month.
#include <chrono>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>

#include "app/auth.h"
#include "app/errors.h"
#include "app/json.h"
#include "app/random.h"
#include "app/request.h"
#include "app/routes.h"
#include "cache/lock.h"
#include "core/calendar.h"
#include "core/parse.h"
#include "core/social.h"
#include "http/envelope.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::app {

namespace {

namespace json = boost::json;
namespace envelope = http::envelope;
using boost::asio::awaitable;
using boost::beast::http::verb;
using http::Context;
using http::Response;

constexpr std::string_view kCodePrefix = "login:code:";
constexpr std::string_view kCodeTriesPrefix = "login:code:tries:";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One fixed-window counter that only counts admitted requests: 1 admitted, 0 refused.
const redis::Script kAdmit(
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n >= tonumber(ARGV[1]) then return 0 end "
    "redis.call('INCR', KEYS[1]) "
    "if n == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
    "return 1");

// Compares the code and deletes it on a match, atomically, so one code logs in once:
// 1 match, 0 mismatch, -1 no code (never sent, expired, used or withdrawn).
const redis::Script kConsumeCode(
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return -1 end "
    "if v == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end "
    "return 0");

// data: the value, or success without data when there is none (the original's ok(null)).
template <class T>
Response ok_or_empty(const Result<std::optional<T>>& found) {
  if (!found) return error_response(found.error());
  if (!*found) return http::json(200, envelope::ok());
  return http::json(200, envelope::ok_raw(to_json(**found)));
}

struct Limit {
  std::string scope;  // e.g. "phone:13800138000"
  int64_t max;
  int64_t window_ms;
};

class UserApi {
 public:
  explicit UserApi(Services& s) : s_(s), opt_(s.config.social) {}

  // POST /user/code?phone=
  awaitable<Response> send_code(Context& ctx) {
    std::string phone = ctx.query_param("phone").value_or("");
    if (!core::is_valid_phone(phone)) co_return business_failure("手机号格式错误");
    redis::Connection& r = s_.redis_for(ctx.worker);
    std::vector<Limit> limits = {
        {"ip:" + client_address(ctx), opt_.code_per_ip_hour, 3600000},
        {"phone:" + phone, opt_.code_per_phone_hour, 3600000},
        {"phone:" + phone, opt_.code_per_phone_minute, 60000},
    };
    // A read-only look at every counter first, so a refused request consumes none of them;
    // then each counter admits atomically (a race between the two can only refuse, not overrun).
    auto full = co_await first_full(r, limits);
    if (!full) co_return error_response(full.error());
    int64_t wait_ms = *full;
    for (size_t i = 0; i < limits.size() && wait_ms == 0; ++i) {
      auto admitted = co_await admit(r, limits[i]);
      if (!admitted) co_return error_response(admitted.error());
      wait_ms = *admitted;
    }
    if (wait_ms > 0) {
      co_return http::json(
          429, envelope::fail(fmt::format("发送过于频繁，请{}秒后再试", (wait_ms + 999) / 1000)));
    }
    std::string code = random_string(6, "0123456789");
    auto cmd = redis::Command::make("SET", std::string(kCodePrefix) + phone, code, "PX",
                                    int64_t{opt_.code_ttl_seconds} * 1000);
    cmd.add("DEL", std::string(kCodeTriesPrefix) + phone);
    auto stored = co_await r.exec_all(std::move(cmd));
    if (!stored) co_return error_response(stored.error());
    if ((*stored)[0].is_error()) co_return error_response(make_error_code(Errc::kServerError));
    // No SMS gateway: the log is the delivery channel.
    spdlog::info("login code for {}: {}", phone, code);
    if (opt_.dev_return_code) co_return http::json(200, envelope::ok(json::value(code)));
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
    std::string phone(phone_v->as_string());
    if (!code_v || !code_v->is_string() || code_v->as_string().size() != 6) {
      co_return business_failure("验证码错误");
    }
    redis::Connection& r = s_.redis_for(ctx.worker);
    std::string code_key = std::string(kCodePrefix) + phone;
    std::vector<std::string> keys{code_key}, args{std::string(code_v->as_string())};
    auto consumed =
        redis::to_integer(co_await kConsumeCode.run(r, std::move(keys), std::move(args)));
    if (!consumed) co_return error_response(consumed.error());
    if (*consumed == 0) {
      auto counted = co_await count_wrong_code(r, phone, code_key);
      if (!counted) co_return error_response(counted.error());
    }
    if (*consumed != 1) co_return business_failure("验证码错误");

    // First login creates the user (the original's nick_name form: user_ + 10 of [a-z0-9]).
    auto user = co_await s_.users.find_or_create(
        phone, "user_" + random_string(10, "abcdefghijklmnopqrstuvwxyz0123456789"));
    if (!user) co_return error_response(user.error());
    std::string token = cache::random_token();
    http::Principal who{user->id, user->nick_name, user->icon};
    auto stored = co_await store_session(r, token, std::move(who), s_.config.login_ttl());
    if (!stored) co_return error_response(stored.error());
    co_return http::json(200, envelope::ok(json::value(token)));
  }

  // POST /user/logout: the session is gone at once (the original answered 功能未完成).
  awaitable<Response> logout(Context& ctx) {
    std::string key = std::string(kTokenPrefix) + std::string(ctx.header("authorization"));
    std::vector<std::string> keys{std::move(key)};
    auto gone = co_await redis::del(s_.redis_for(ctx.worker), std::move(keys));
    if (!gone) co_return error_response(gone.error());
    co_return http::json(200, envelope::ok());
  }

  awaitable<Response> me(Context& ctx) {
    co_return http::json(200, envelope::ok_raw(to_json(*ctx.user)));
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

  // POST /user/sign: today's bit in sign:{userId}:{yyyyMM} (bit day-1); signing twice is a no-op.
  awaitable<Response> sign(Context& ctx) {
    core::Date today = core::local_day(now_ms()).date;
    auto set = co_await redis::setbit(s_.redis_for(ctx.worker), sign_key(ctx.user->id, today),
                                      today.day - 1, true);
    if (!set) co_return error_response(set.error());
    co_return http::json(200, envelope::ok());
  }

  // GET /user/sign/count: consecutive signed days ending today. Unlike the original, a streak
  // does not stop at the first of the month: it carries on through earlier months' bitmaps.
  awaitable<Response> sign_count(Context& ctx) {
    core::Date today = core::local_day(now_ms()).date;
    redis::Connection& r = s_.redis_for(ctx.worker);
    int64_t count = 0;
    core::Date month = today;
    int days = today.day;
    // Ten years of daily check-ins is the longest streak looked at.
    for (int step = 0; step < 120; ++step) {
      auto bits = co_await redis::bitfield_get_u(r, sign_key(ctx.user->id, month), days, 0);
      if (!bits) co_return error_response(bits.error());
      int run = core::trailing_ones(static_cast<uint64_t>(*bits), days);
      count += run;
      if (run < days) break;
      month = core::previous_month(month);
      days = core::days_in_month(month.year, month.month);
    }
    co_return http::json(200, envelope::ok(json::value(count)));
  }

 private:
  static std::string sign_key(int64_t user_id, core::Date d) {
    return fmt::format("sign:{}:{}", user_id, core::format_yyyymm(d));
  }

  static std::string limit_key(const Limit& limit, const core::Window& window) {
    return fmt::format("limit:code:{}:{}:{}", limit.scope, limit.window_ms / 1000, window.index);
  }

  // 0 when no counter is full, else the milliseconds until the first full one's window ends.
  awaitable<Result<int64_t>> first_full(redis::Connection& r, std::vector<Limit> limits) {
    int64_t now = now_ms();
    redis::Command cmd;
    for (const auto& l : limits) cmd.add("GET", limit_key(l, core::fixed_window(now, l.window_ms)));
    auto replies = co_await r.exec_all(std::move(cmd));
    if (!replies) co_return replies.error();
    for (size_t i = 0; i < limits.size(); ++i) {
      auto n = redis::to_optional_string(Result<redis::Reply>((*replies)[i]));
      if (!n) co_return n.error();
      if (*n && core::parse_int64(**n).value_or(0) >= limits[i].max) {
        int64_t ends = core::fixed_window(now, limits[i].window_ms).ends_at_ms;
        co_return std::max<int64_t>(1, ends - now);
      }
    }
    co_return int64_t{0};
  }

  // 0 when admitted, else the milliseconds until the window reopens.
  awaitable<Result<int64_t>> admit(redis::Connection& r, Limit limit) {
    int64_t now = now_ms();
    auto window = core::fixed_window(now, limit.window_ms);
    std::vector<std::string> keys{limit_key(limit, window)};
    std::vector<std::string> args{std::to_string(limit.max),
                                  std::to_string(window.ends_at_ms - now + 1000)};
    auto admitted = redis::to_integer(co_await kAdmit.run(r, std::move(keys), std::move(args)));
    if (!admitted) co_return admitted.error();
    co_return *admitted == 1 ? int64_t{0} : std::max<int64_t>(1, window.ends_at_ms - now);
  }

  // A wrong code counts against the code; too many and it is withdrawn, so six digits cannot
  // be guessed within its lifetime.
  awaitable<Result<void>> count_wrong_code(redis::Connection& r, std::string phone,
                                           std::string code_key) {
    std::string tries_key = std::string(kCodeTriesPrefix) + phone;
    auto cmd = redis::Command::make("INCR", tries_key);
    cmd.add("PEXPIRE", tries_key, int64_t{opt_.code_ttl_seconds} * 1000);
    auto replies = co_await r.exec_all(std::move(cmd));
    if (!replies) co_return replies.error();
    auto tries = redis::to_integer(Result<redis::Reply>((*replies)[0]));
    if (!tries) co_return tries.error();
    if (*tries >= opt_.code_max_attempts) {
      // Two single-key DELs rather than one: the keys may live on different cluster nodes.
      auto drop = redis::Command::make("DEL", code_key);
      drop.add("DEL", tries_key);
      auto gone = co_await r.exec_all(std::move(drop));
      if (!gone) co_return gone.error();
    }
    co_return Result<void>();
  }

  Services& s_;
  const SocialOptions& opt_;
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
  t.add(verb::post, "/user/sign", kLogin, api, &UserApi::sign);
  t.add(verb::get, "/user/sign/count", kLogin, api, &UserApi::sign_count);
}

}  // namespace surge::app
