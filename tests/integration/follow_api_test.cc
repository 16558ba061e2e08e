// /follow/** against a real `surge serve`: follow and unfollow (idempotent, mirrored into
// follows:{id}), "do I follow", common follows by set intersection, and the sets rebuilt from
// tb_follow at start.
#include <string>

#include <gtest/gtest.h>

#include "support/api.h"

namespace surge::test {
namespace {

TEST(FollowApi, FollowUnfollowAndCommonFollows) {
  SurgeServer server(api_flags());
  uint16_t port = server.port();
  std::string a = login(port, unique_phone()), b = login(port, unique_phone()),
              c = login(port, unique_phone());
  int64_t a_id = my_id(port, a), b_id = my_id(port, b), c_id = my_id(port, c);
  auto put = [&](const std::string& token, int64_t id, const char* flag) {
    return api(port, "PUT", "/follow/" + std::to_string(id) + "/" + flag, token);
  };
  auto follows = [&](const std::string& token, int64_t id) {
    return api(port, "GET", "/follow/or/not/" + std::to_string(id), token).body;
  };
  EXPECT_EQ(follows(a, c_id), R"({"success":true,"data":false})");
  EXPECT_EQ(put(a, c_id, "true").body, R"({"success":true})");
  EXPECT_EQ(put(a, c_id, "true").body, R"({"success":true})");  // again: still one row
  EXPECT_EQ(put(b, c_id, "true").body, R"({"success":true})");
  EXPECT_EQ(put(a, b_id, "true").body, R"({"success":true})");
  EXPECT_EQ(follows(a, c_id), R"({"success":true,"data":true})");
  EXPECT_EQ(follows(c, a_id), R"({"success":true,"data":false})");
  EXPECT_EQ(redis_cli("SCARD follows:" + std::to_string(a_id)), "2");

  auto common = api(port, "GET", "/follow/common/" + std::to_string(b_id), a);
  auto list = common.json().at("data").as_array();
  ASSERT_EQ(list.size(), 1u) << common.body;
  EXPECT_EQ(list[0].at("id").to_number<int64_t>(), c_id);
  EXPECT_EQ(list[0].as_object().size(), 3u);

  EXPECT_EQ(put(a, c_id, "false").body, R"({"success":true})");
  EXPECT_EQ(put(a, c_id, "false").body, R"({"success":true})");  // unfollowing twice is fine
  EXPECT_EQ(follows(a, c_id), R"({"success":true,"data":false})");
  EXPECT_EQ(api(port, "GET", "/follow/common/" + std::to_string(b_id), a).body,
            R"({"success":true,"data":[]})");

  EXPECT_EQ(put(a, a_id, "true").body, R"({"success":false,"errorMsg":"不能关注自己"})");
  EXPECT_EQ(put(a, 999999999, "true").body, R"({"success":false,"errorMsg":"用户不存在"})");
  EXPECT_EQ(put(a, c_id, "maybe").status, 400);
  EXPECT_EQ(api(port, "PUT", "/follow/x/true", a).status, 400);
  EXPECT_EQ(api(port, "GET", "/follow/common/0", a).status, 400);
}

// The seed has 30 follow pairs among users 1..20 and the fixture starts from an empty Redis:
// a started server has mirrored all of them (no other test touches seeded users' follows).
TEST(FollowApi, SetsAreRebuiltFromTheDatabaseAtStart) {
  SurgeServer server(api_flags());
  int total = 0;
  for (int id = 1; id <= 20; ++id) {
    total += std::stoi(redis_cli("SCARD follows:" + std::to_string(id)));
  }
  EXPECT_EQ(total, 30);
}

}  // namespace
}  // namespace surge::test
