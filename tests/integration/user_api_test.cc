// /user/** against a real `surge serve`: send-code validation and rate limits, login (first
// login creates the user; codes are single-use and withdrawn after repeated wrong guesses),
// sessions (401 with an empty body without a token, with an unknown one and with an expired
// one; the TTL slides), logout, profiles, and check-in streaks across a month boundary.
#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "app/routes.h"
#include "core/calendar.h"
#include "db/pool.h"
#include "support/api.h"
#include "support/stores.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;

class UserApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<SurgeServer>(api_flags()); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static uint16_t port() { return server_->port(); }
  static std::unique_ptr<SurgeServer> server_;
};
std::unique_ptr<SurgeServer> UserApiTest::server_;

// The routes anyone may call: the original's excluded paths (/shop/**, /voucher/**,
// /shop-type/**, /blog/hot, /user/code, /user/login; not /upload/**, whose files record their
// uploader) plus the probes and the API document. Every other route the router knows must
// require a session.
bool documented_public(std::string_view path) {
  for (std::string_view prefix : {"/shop/", "/voucher/", "/shop-type/"}) {
    if (path.starts_with(prefix)) return true;
  }
  for (std::string_view exact : {"/shop", "/voucher", "/blog/hot", "/user/code", "/user/login",
                                 "/health", "/openapi.json"}) {
    if (path == exact) return true;
  }
  return false;
}

// Every registered route outside the public list, read from the router itself (so a route added
// later is covered without editing this test), with its parameters filled in. Administrator
// routes answer 401 in the envelope instead; security_test covers them.
std::vector<std::pair<std::string, std::string>> protected_routes() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : app::list_routes()) {
    if (documented_public(route.pattern) || route.access == app::Access::kAdmin) continue;
    std::string path = std::regex_replace(route.pattern, std::regex("\\{[^}]*\\}"), "1");
    out.emplace_back(route.method, path);
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>>& kProtected() {
  static const auto routes = protected_routes();
  return routes;
}

TEST_F(UserApiTest, TheProtectedListComesFromTheRouter) {
  // The derivation itself: routes the original protects are in it, public ones are not.
  const auto& list = kProtected();
  auto has = [&](const char* method, const char* path) {
    return std::find(list.begin(), list.end(), std::pair<std::string, std::string>(method, path)) !=
           list.end();
  };
  EXPECT_TRUE(has("GET", "/voucher-order/1"));
  EXPECT_TRUE(has("POST", "/voucher-order/seckill/1"));
  EXPECT_TRUE(has("GET", "/stats/uv"));
  EXPECT_TRUE(has("PUT", "/follow/1/1"));
  EXPECT_FALSE(has("GET", "/shop/1"));
  EXPECT_FALSE(has("POST", "/user/login"));
  EXPECT_GE(list.size(), 19u);
}

void expect_all_401(uint16_t port, const std::string& token, const std::string& why) {
  for (const auto& [method, path] : kProtected()) {
    std::string body = method == "POST" && path == "/blog" ? R"({"shopId":1,"title":"t"})" : "";
    auto r = api(port, method, path, token, body);
    EXPECT_EQ(r.status, 401) << why << ": " << method << " " << path << " -> " << r.body;
    EXPECT_EQ(r.body, "") << why << ": " << method << " " << path;
  }
}

TEST_F(UserApiTest, CodeRejectsBadPhones) {
  for (const char* phone : {"", "123", "12012345678", "1380013800", "15,12345678", "abc"}) {
    auto r = api(port(), "POST", std::string("/user/code?phone=") + phone);
    EXPECT_EQ(r.status, 200) << phone;
    EXPECT_EQ(r.body, R"({"success":false,"errorMsg":"手机号格式错误"})") << phone;
  }
}

TEST_F(UserApiTest, CodeIsSixDigitsStoredForTwoMinutes) {
  std::string phone = unique_phone();
  auto r = api(port(), "POST", "/user/code?phone=" + phone);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string code(r.json().at("data").as_string());
  EXPECT_TRUE(std::regex_match(code, std::regex("[0-9]{6}"))) << code;
  EXPECT_EQ(redis_cli("GET login:code:{" + phone + "}"), code);
  int ttl = std::stoi(redis_cli("TTL login:code:{" + phone + "}"));
  EXPECT_GT(ttl, 110);
  EXPECT_LE(ttl, 120);
}

TEST_F(UserApiTest, FirstLoginCreatesTheUserAndWorksAtOnce) {
  std::string phone = unique_phone();
  std::string token = login(port(), phone);
  ASSERT_TRUE(std::regex_match(token, std::regex("[0-9a-f]{32}"))) << token;
  auto me = api(port(), "GET", "/user/me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  auto data = me.json().at("data").as_object();
  EXPECT_GT(data.at("id").to_number<int64_t>(), 0);
  std::string nick(data.at("nickName").as_string());
  EXPECT_TRUE(std::regex_match(nick, std::regex("user_[a-z0-9]{10}"))) << nick;
  EXPECT_EQ(data.at("icon"), "");
  EXPECT_EQ(data.size(), 3u);
  // The session hash has the original's fields.
  EXPECT_EQ(redis_cli("HGET login:token:" + token + " nickName"), nick);

  // A second login finds the same user and issues a different token.
  std::string again = login(port(), phone);
  EXPECT_NE(again, token);
  EXPECT_EQ(my_id(port(), again), data.at("id").to_number<int64_t>());
  // GET /user/{id} answers the same DTO.
  auto byid = api(port(), "GET", "/user/" + std::to_string(my_id(port(), again)), again);
  EXPECT_EQ(byid.json().at("data").at("nickName").as_string(), nick);
}

TEST_F(UserApiTest, CodesAreSingleUseAndWrongCodesFail) {
  std::string phone = unique_phone();
  auto sent = api(port(), "POST", "/user/code?phone=" + phone);
  std::string code(sent.json().at("data").as_string());
  std::string wrong = code == "000000" ? "111111" : "000000";
  auto bad = api(port(), "POST", "/user/login", "",
                 R"({"phone":")" + phone + R"(","code":")" + wrong + R"("})");
  EXPECT_EQ(bad.body, R"({"success":false,"errorMsg":"验证码错误"})");
  auto good = api(port(), "POST", "/user/login", "",
                  R"({"phone":")" + phone + R"(","code":")" + code + R"("})");
  EXPECT_TRUE(good.success()) << good.body;
  auto replay = api(port(), "POST", "/user/login", "",
                    R"({"phone":")" + phone + R"(","code":")" + code + R"("})");
  EXPECT_EQ(replay.body, R"({"success":false,"errorMsg":"验证码错误"})");
  // Bad bodies.
  EXPECT_EQ(api(port(), "POST", "/user/login", "", "{oops").status, 400);
  EXPECT_EQ(api(port(), "POST", "/user/login", "", R"({"phone":"123","code":"123456"})").body,
            R"({"success":false,"errorMsg":"手机号格式错误"})");
  EXPECT_EQ(api(port(), "POST", "/user/login", "", R"({"phone":")" + phone + R"("})").body,
            R"({"success":false,"errorMsg":"验证码错误"})");
}

TEST_F(UserApiTest, FiveWrongGuessesWithdrawTheCode) {
  std::string phone = unique_phone();
  auto sent = api(port(), "POST", "/user/code?phone=" + phone);
  std::string code(sent.json().at("data").as_string());
  std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    auto r = api(port(), "POST", "/user/login", "",
                 R"({"phone":")" + phone + R"(","code":")" + wrong + R"("})");
    EXPECT_FALSE(r.success());
  }
  auto late = api(port(), "POST", "/user/login", "",
                  R"({"phone":")" + phone + R"(","code":")" + code + R"("})");
  EXPECT_EQ(late.body, R"({"success":false,"errorMsg":"验证码错误"})");
  EXPECT_EQ(redis_cli("EXISTS login:code:{" + phone + "}"), "0");
}

TEST_F(UserApiTest, EveryProtectedRouteIs401WithoutAValidToken) {
  expect_all_401(port(), "", "no token");
  expect_all_401(port(), "0123456789abcdef0123456789abcdef", "unknown token");
  expect_all_401(port(), "not-a-token", "malformed token");

  // Expire a session as Redis would at the end of its TTL. A session expires there only after
  // it went unused for the whole TTL, far longer than any worker keeps it near, so this one is
  // expired before its first use, as none of the workers has seen it.
  std::string token = login(port(), unique_phone());
  ASSERT_EQ(redis_cli("PEXPIRE login:token:" + token + " 1"), "1");
  std::this_thread::sleep_for(20ms);
  expect_all_401(port(), token, "expired token");
  // Public routes still answer, anonymously.
  EXPECT_EQ(api(port(), "GET", "/blog/hot", token).status, 200);
  EXPECT_EQ(api(port(), "GET", "/shop/1", token).status, 200);
}

TEST_F(UserApiTest, SessionTtlSlidesOnEveryAuthenticatedRequest) {
  std::string token = login(port(), unique_phone());
  ASSERT_EQ(redis_cli("PEXPIRE login:token:" + token + " 5000"), "1");
  ASSERT_EQ(api(port(), "GET", "/shop/1", token).status, 200);  // any path slides it
  int ttl = std::stoi(redis_cli("TTL login:token:" + token));
  EXPECT_GT(ttl, 29 * 60);
  EXPECT_LE(ttl, 30 * 60);
}

TEST_F(UserApiTest, LogoutEndsTheSession) {
  std::string token = login(port(), unique_phone());
  auto out = api(port(), "POST", "/user/logout", token);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.body, R"({"success":true})");
  EXPECT_EQ(api(port(), "GET", "/user/me", token).status, 401);
  EXPECT_EQ(redis_cli("EXISTS login:token:" + token), "0");
}

// Two instances whose workers keep sessions near for a minute: a logout through one must still
// end the session on the other at once (the test waits 5 s at most, far below that minute, so
// only the announcement through Redis can explain the 401).
TEST(UserApiInstances, LogoutOnOneInstanceEndsTheSessionOnEveryInstance) {
  SurgeServer a(api_flags({"--session-cache-ms", "60000"}));
  SurgeServer b(api_flags({"--session-cache-ms", "60000"}));
  std::string token = login(a.port(), unique_phone());
  // Several connections, so both of b's workers are likely to hold it near.
  for (int i = 0; i < 6; ++i) ASSERT_EQ(api(b.port(), "GET", "/user/me", token).status, 200);
  ASSERT_EQ(api(a.port(), "POST", "/user/logout", token).status, 200);
  auto until = std::chrono::steady_clock::now() + 5s;
  int still = 0;
  while (std::chrono::steady_clock::now() < until) {
    still = 0;
    for (int i = 0; i < 6; ++i) still += api(b.port(), "GET", "/user/me", token).status == 200;
    if (still == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(still, 0) << "b still answers the closed session";
  EXPECT_EQ(api(a.port(), "GET", "/user/me", token).status, 401);
}

TEST_F(UserApiTest, TheAdministratorLogsAUserOutEverywhere) {
  std::string phone = unique_phone();
  std::string first = login(port(), phone);
  std::string second = login(port(), phone);
  int64_t id = my_id(port(), first);
  ASSERT_GT(id, 0);
  ASSERT_EQ(api(port(), "GET", "/user/me", second).status, 200);
  std::string path = "/user/sessions/" + std::to_string(id);
  // Not for anonymous callers, nor for the user's own session.
  EXPECT_EQ(api(port(), "DELETE", path).status, 401);
  EXPECT_EQ(api(port(), "DELETE", path, first).status, 403);
  auto [status, body] = admin_send(port(), "DELETE", path);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body, R"({"success":true,"data":2})");
  EXPECT_EQ(api(port(), "GET", "/user/me", first).status, 401);
  EXPECT_EQ(api(port(), "GET", "/user/me", second).status, 401);
  EXPECT_EQ(api(port(), "DELETE", "/user/sessions/abc", "").status, 401);
}

TEST_F(UserApiTest, ProfilesAndUsers) {
  std::string token = login(port(), unique_phone());
  // Seeded user 1 has a profile (every id not divisible by 10 does); 10 has none.
  auto info = api(port(), "GET", "/user/info/1", token);
  ASSERT_EQ(info.status, 200) << info.body;
  auto data = info.json().at("data").as_object();
  EXPECT_EQ(data.at("userId").to_number<int64_t>(), 1);
  EXPECT_TRUE(data.at("gender").is_bool());
  EXPECT_TRUE(data.at("level").is_int64());
  EXPECT_FALSE(data.contains("createTime"));
  EXPECT_FALSE(data.contains("updateTime"));
  EXPECT_EQ(api(port(), "GET", "/user/info/10", token).body, R"({"success":true})");
  EXPECT_EQ(api(port(), "GET", "/user/999999999", token).body, R"({"success":true})");
  auto one = api(port(), "GET", "/user/1", token).json().at("data").as_object();
  EXPECT_EQ(one.at("id").to_number<int64_t>(), 1);
  EXPECT_EQ(one.size(), 3u);
  for (const char* bad :
       {"/user/abc", "/user/0", "/user/-1", "/user/info/x", "/user/99999999999999999999"}) {
    EXPECT_EQ(api(port(), "GET", bad, token).status, 400) << bad;
  }
}

TEST_F(UserApiTest, SignCountRunsAcrossTheMonthBoundary) {
  std::string token = login(port(), unique_phone());
  int64_t id = my_id(port(), token);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  core::Date today = core::local_day(now.count()).date;
  core::Date prev = core::previous_month(today);
  int prev_days = core::days_in_month(prev.year, prev.month);
  std::string key = "sign:" + std::to_string(id) + ":" + core::format_yyyymm(today);
  std::string prev_key = "sign:" + std::to_string(id) + ":" + core::format_yyyymm(prev);
  // Every earlier day of this month, and the last three days of the previous one (with a gap
  // before them, so the streak must stop there).
  for (int d = 1; d < today.day; ++d)
    redis_cli("SETBIT " + key + " " + std::to_string(d - 1) + " 1");
  for (int d = prev_days - 2; d <= prev_days; ++d) {
    redis_cli("SETBIT " + prev_key + " " + std::to_string(d - 1) + " 1");
  }
  redis_cli("SETBIT " + prev_key + " " + std::to_string(prev_days - 5) + " 1");  // after a gap

  // Not signed today: the streak ending today is 0, as in the original.
  EXPECT_EQ(api(port(), "GET", "/user/sign/count", token).body, R"({"success":true,"data":0})");
  EXPECT_EQ(api(port(), "POST", "/user/sign", token).body, R"({"success":true})");
  EXPECT_EQ(api(port(), "POST", "/user/sign", token).body, R"({"success":true})");  // idempotent
  EXPECT_EQ(redis_cli("GETBIT " + key + " " + std::to_string(today.day - 1)), "1");
  auto count = api(port(), "GET", "/user/sign/count", token);
  EXPECT_EQ(count.json().at("data").to_number<int64_t>(), today.day + 3) << count.body;
}

// Its own server with the default per-phone limit and a small per-address one. Client addresses
// come from X-Real-IP (the peer is loopback, configured as the trusted proxy, as nginx would be),
// unique to this process.
TEST(UserCodeLimits, PerPhoneAndPerAddressLimitsTrip) {
  SurgeServer server(
      {"--dev-return-code", "--code-per-ip-hour", "3", "--trusted-proxy", "127.0.0.1/32"});
  std::string ip = "X-Real-IP: 10.200." + std::to_string(::getpid() % 250) + ".";
  auto send = [&](const std::string& phone, const std::string& host) {
    return api(server.port(), "POST", "/user/code?phone=" + phone, "", "", ip + host + "\r\n");
  };
  // One code per phone per minute: the second request is refused (or, if a minute boundary
  // passed between the two, the third is). Three codes per address per hour, whatever the
  // phones, and refused requests use up none of them.
  std::string phone = unique_phone();
  ASSERT_EQ(send(phone, "9").status, 200);
  int used = 1;
  auto again = send(phone, "9");
  if (again.status == 200) {
    ++used;
    again = send(phone, "9");
  }
  EXPECT_EQ(again.status, 429) << again.body;
  EXPECT_NE(again.body.find("发送过于频繁"), std::string::npos) << again.body;
  for (; used < 3; ++used) {
    auto r = send(unique_phone(), "9");
    EXPECT_EQ(r.status, 200) << used << " " << r.body;
  }
  auto fourth = send(unique_phone(), "9");
  EXPECT_EQ(fourth.status, 429) << fourth.body;
  // Another address is not affected.
  EXPECT_EQ(send(unique_phone(), "10").status, 200);
}

// Without --trusted-proxy the peer (loopback here) is the address whatever X-Real-IP says: a
// client forging a new X-Real-IP per request still hits its one bucket.
TEST(UserCodeLimits, AForgedRealIpFromAnUntrustedPeerDoesNotChangeTheBucket) {
  SurgeServer server({"--dev-return-code", "--code-per-ip-hour", "3"});
  // Other suites also send codes from loopback into the same Redis counter, so loopback's bucket
  // may already be spent: then all six are refused. Believing the header would accept all six
  // (fresh addresses of this process).
  std::string net = "X-Real-IP: 10.201." + std::to_string(::getpid() % 250) + ".";
  int accepted = 0, refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = api(server.port(), "POST", "/user/code?phone=" + unique_phone(), "", "",
                 net + std::to_string(i) + "\r\n");
    if (r.status == 200) ++accepted;
    if (r.status == 429) ++refused;
  }
  EXPECT_LE(accepted, 3);
  EXPECT_EQ(accepted + refused, 6);
  EXPECT_GE(refused, 3);
}

}  // namespace
}  // namespace surge::test
