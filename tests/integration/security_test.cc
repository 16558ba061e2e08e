// Issue 13 against a real `surge serve`: the administrator's writes (POST/PUT /shop, POST
// /voucher, POST /voucher/seckill) refuse an anonymous client with 401 and a user's session with
// 403, both in the envelope, and run for the admin token; without a configured token they refuse
// everyone. Purchases are rate limited per user and per address (--sale-rate). Stored text
// cannot carry live markup.
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/api.h"
#include "support/stores.h"
#include "vectors/xss.h"

namespace surge::test {
namespace {

struct Write {
  std::string method, path, body;
};

// One valid body per administrator route (each would succeed for the admin).
std::vector<Write> admin_writes() {
  std::string tag = std::to_string(::getpid());
  return {
      {"POST", "/shop", R"({"name":"管理员的店)" + tag + R"(","typeId":1,"x":120.1,"y":30.1})"},
      {"PUT", "/shop", R"({"id":9,"sold":4242})"},
      {"POST", "/voucher", R"({"shopId":1,"title":"管理员券","payValue":1,"actualValue":2})"},
      {"POST", "/voucher/seckill",
       R"({"shopId":1,"title":"管理员秒杀","payValue":1,"actualValue":2,"stock":3,)"
       R"("beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})"},
      {"DELETE", "/user/sessions/987654321", ""},  // a user with no session
  };
}

TEST(AdminRoutes, AnonymousIs401UserIs403AdminWorks) {
  SurgeServer surge(api_flags());
  std::string user = login(surge.port(), unique_phone());
  ASSERT_FALSE(user.empty());
  const std::string& admin = stores().admin_token;
  ASSERT_GE(admin.size(), 32u);
  for (const auto& w : admin_writes()) {
    std::string what = w.method + " " + w.path;
    auto anonymous = api(surge.port(), w.method, w.path, "", w.body);
    EXPECT_EQ(anonymous.status, 401) << what << " -> " << anonymous.body;
    EXPECT_EQ(anonymous.body, R"({"success":false,"errorMsg":"administrator credential required"})")
        << what;
    // An unknown token is no credential either.
    EXPECT_EQ(api(surge.port(), w.method, w.path, std::string(admin.size(), 'x'), w.body).status,
              401)
        << what;
    auto member = api(surge.port(), w.method, w.path, user, w.body);
    EXPECT_EQ(member.status, 403) << what << " -> " << member.body;
    EXPECT_EQ(member.body, R"({"success":false,"errorMsg":"administrator only"})") << what;
    auto ok = api(surge.port(), w.method, w.path, admin, w.body);
    EXPECT_EQ(ok.status, 200) << what << " -> " << ok.body;
    EXPECT_TRUE(ok.json().at("success").as_bool()) << what << " -> " << ok.body;
  }
  // The admin token is not a session: login-only routes still answer 401 for it.
  EXPECT_EQ(api(surge.port(), "GET", "/user/me", admin).status, 401);
}

TEST(AdminRoutes, WithoutAConfiguredTokenEveryoneIsRefused) {
  auto env = surge_env();
  for (auto& e : env) {
    if (e.starts_with("SURGE_ADMIN_TOKEN=")) e = "SURGE_ADMIN_TOKEN=";
  }
  SurgeServer surge(api_flags(), env);
  for (const auto& w : admin_writes()) {
    auto r = api(surge.port(), w.method, w.path, stores().admin_token, w.body);
    EXPECT_EQ(r.status, 401) << w.method << " " << w.path << " -> " << r.body;
  }
}

// --sale-rate 1 (burst 1) on 2 workers: one user's flood of 100 purchases reaches the sale at
// most 2 x (1 + 1/s x elapsed) times, every other request is a 429 in the envelope, and other
// users (other addresses, told by the trusted loopback proxy's X-Real-IP) still buy.
TEST(SaleRate, OneUsersFloodIsLimitedAndOthersStillBuy) {
  SurgeServer surge(api_flags({"--sale-rate", "1", "--trusted-proxy", "127.0.0.1/32"}));
  auto [cs, cb] =
      admin_send(surge.port(), "POST", "/voucher/seckill",
                 R"({"shopId":1,"title":"限流抢购","payValue":1,"actualValue":2,"stock":100,)"
                 R"("beginTime":"2020-01-01T00:00:00","endTime":"2037-12-31T00:00:00"})");
  ASSERT_EQ(cs, 200) << cb;
  int64_t voucher = boost::json::parse(cb).at("data").as_int64();
  std::string path = "/voucher-order/seckill/" + std::to_string(voucher);
  std::string net = "X-Real-IP: 10.202." + std::to_string(::getpid() % 250) + ".";

  std::string flooder = login(surge.port(), unique_phone());
  ASSERT_FALSE(flooder.empty());
  constexpr int kFlood = 100;
  int reached = 0, refused = 0, bought = 0;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kFlood; ++i) {
    auto r = api(surge.port(), "POST", path, flooder, "", net + "1\r\n");
    if (r.status == 429) {
      ++refused;
      EXPECT_NE(r.body.find("too many purchases"), std::string::npos) << r.body;
      EXPECT_FALSE(r.json().at("success").as_bool());
    } else if (r.status == 200) {
      ++reached;  // the sale script answered: bought, or already bought
      if (r.json().at("success").as_bool()) ++bought;
    }
  }
  double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(reached + refused, kFlood);
  EXPECT_EQ(bought, 1) << "one order per user";
  EXPECT_LE(reached, static_cast<int>(2 * (1 + elapsed_s)) + 1) << elapsed_s << " s";
  EXPECT_GE(refused, kFlood / 2);

  // Others, each from its own address, buy at once.
  for (int u = 2; u < 7; ++u) {
    std::string token = login(surge.port(), unique_phone());
    auto r = api(surge.port(), "POST", path, token, "", net + std::to_string(u) + "\r\n");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json().at("success").as_bool()) << r.body;
  }
}

// Every classic vector stored as blog content comes back from GET /blog/{id} inert; as a title it
// is refused; unsafe image references are refused; shop and voucher text is plain text.
TEST(StoredContent, XssVectorsComeBackInertOrAreRefused) {
  SurgeServer surge(api_flags());
  std::string token = login(surge.port(), unique_phone());
  ASSERT_FALSE(token.empty());
  ASSERT_GE(kVectors.size(), 20u);
  for (const auto& v : kVectors) {
    boost::json::object body{{"shopId", 1}, {"title", "xss"}, {"images", ""}, {"content", v}};
    auto r = api(surge.port(), "POST", "/blog", token, boost::json::serialize(body));
    ASSERT_EQ(r.status, 200) << v << " -> " << r.body;
    int64_t id = r.json().at("data").to_number<int64_t>();
    auto back = api(surge.port(), "GET", "/blog/" + std::to_string(id), token);
    ASSERT_EQ(back.status, 200) << back.body;
    std::string content(back.json().at("data").at("content").as_string());
    EXPECT_FALSE(has_live_markup(content)) << v << " -> " << content;

    body["title"] = v;
    body["content"] = "x";
    auto titled = api(surge.port(), "POST", "/blog", token, boost::json::serialize(body));
    EXPECT_EQ(titled.status, 400) << v << " -> " << titled.body;
  }
  // Harmless formatting survives; text without markup is unchanged.
  boost::json::object plain{{"shopId", 1}, {"title", "好吃"}, {"content", "<b>真</b>好吃 & 便宜"}};
  auto r = api(surge.port(), "POST", "/blog", token, boost::json::serialize(plain));
  ASSERT_EQ(r.status, 200) << r.body;
  auto back = api(surge.port(), "GET",
                  "/blog/" + std::to_string(r.json().at("data").to_number<int64_t>()), token);
  EXPECT_EQ(back.json().at("data").at("content").as_string(), "<b>真</b>好吃 &amp; 便宜");

  for (const char* images : {"javascript:alert(1)", "/imgs/x.jpg,data:image/png;base64,AA==",
                             "\"><script>alert(1)</script>"}) {
    boost::json::object body{{"shopId", 1}, {"title", "t"}, {"images", images}, {"content", "c"}};
    EXPECT_EQ(api(surge.port(), "POST", "/blog", token, boost::json::serialize(body)).status, 400)
        << images;
  }
  const std::string& admin = stores().admin_token;
  for (const char* field : {"name", "area", "address", "openHours"}) {
    boost::json::object shop{{"id", 9}, {field, "<img src=x onerror=alert(1)>"}};
    auto put = api(surge.port(), "PUT", "/shop", admin, boost::json::serialize(shop));
    EXPECT_EQ(put.status, 400) << field << " -> " << put.body;
  }
  auto voucher = api(surge.port(), "POST", "/voucher", admin,
                     R"({"shopId":1,"title":"<script>alert(1)</script>","payValue":1,)"
                     R"("actualValue":2})");
  EXPECT_EQ(voucher.status, 400) << voucher.body;
}

}  // namespace
}  // namespace surge::test
