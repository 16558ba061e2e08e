// POST /shop and PUT /shop through two real `surge serve` processes sharing the fixture stores:
// a write on one instance is what the other instance's near cache answers right after.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "support/processes.h"

namespace surge::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::pair<int, std::string> send(uint16_t port, const std::string& method, const std::string& path,
                                 const std::string& body) {
  return http_send(port, method, path, body);
}

std::string shop_name(uint16_t port, int64_t id) {
  auto [status, body] = http_get(port, "/shop/" + std::to_string(id));
  if (status != 200) return "";
  auto v = json::parse(body);
  if (!v.as_object().at("success").as_bool()) return "";
  return std::string(v.at("data").at("name").as_string());
}

TEST(ShopWrites, UpdateOnOneInstanceIsSeenByTheOtherWithin50ms) {
  SurgeServer a, b;
  // Warm b's near caches (both workers) and Redis.
  for (int i = 0; i < 8; ++i) ASSERT_FALSE(shop_name(b.port(), 3).empty());
  for (int round = 0; round < 5; ++round) {
    std::string name = "更新" + std::to_string(round) + "-" + std::to_string(::getpid());
    auto [status, body] = send(a.port(), "PUT", "/shop", R"({"id":3,"name":")" + name + R"("})");
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body, R"({"success":true})");
    auto deadline = std::chrono::steady_clock::now() + 50ms;
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      seen = shop_name(b.port(), 3) == name;
    }
    EXPECT_TRUE(seen) << "instance b still serves the old name 50 ms after PUT returned";
    // And every later read on either instance agrees.
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(shop_name(b.port(), 3), name);
      EXPECT_EQ(shop_name(a.port(), 3), name);
    }
  }
}

TEST(ShopWrites, CreatedShopIsReadableEverywhere) {
  SurgeServer a, b;
  auto [status, body] =
      send(a.port(), "POST", "/shop",
           R"({"name":"新开的店","typeId":1,"x":120.15,"y":30.33,"avgPrice":88})");
  ASSERT_EQ(status, 200) << body;
  auto v = json::parse(body);
  int64_t id = v.at("data").as_int64();
  ASSERT_GT(id, 0);
  EXPECT_EQ(shop_name(b.port(), id), "新开的店");
  EXPECT_EQ(shop_name(a.port(), id), "新开的店");
}

TEST(ShopWrites, BadBodiesAreRejectedWithClearMessages) {
  SurgeServer a;
  auto check = [&](const std::string& method, const std::string& body, int status,
                   const std::string& message) {
    auto [s, b] = send(a.port(), method, "/shop", body);
    EXPECT_EQ(s, status) << method << " " << body << " -> " << b;
    EXPECT_NE(b.find(message), std::string::npos) << b;
  };
  check("PUT", "{not json", 400, "malformed JSON body");
  check("PUT", "[1,2]", 400, "JSON body must be an object");
  check("PUT", R"({"name":"x"})", 200, "店铺id不能为空");
  check("PUT", R"({"id":"7","name":"x"})", 400, "invalid field: id");
  check("PUT", R"({"id":7,"x":"east"})", 400, "invalid field: x");
  check("PUT", R"({"id":7,"score":99})", 400, "invalid field: score");
  check("PUT", R"({"id":7})", 400, "nothing to update");
  check("PUT", R"({"id":999999999,"name":"x"})", 200, "店铺不存在");
  check("POST", R"({"name":"x"})", 400, "name, typeId, x and y are required");
  check("POST", R"({"name":"x","typeId":1,"x":-1,"y":30})", 400, "invalid field: x");
  check("POST", std::string(2 * 1024 * 1024, 'a'), 413, "request body too large");
  EXPECT_EQ(http_get(a.port(), "/health").first, 200);
}

}  // namespace
}  // namespace surge::test
