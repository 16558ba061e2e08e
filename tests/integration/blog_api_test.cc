// /blog/** against a real `surge serve`: creating blogs (validation, fan-out to followers),
// reading them with author and isLike, the hot list, like toggles (concurrent toggles by one
// user leave the Redis set and tb_blog.liked in agreement), top likers, and the follow feed's
// scroll pagination over many equal timestamps.
#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/api.h"

namespace surge::test {
namespace {

namespace json = boost::json;

class BlogApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<SurgeServer>(api_flags({"--feed-keep", "12"}));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static uint16_t port() { return server_->port(); }

  static int64_t create_blog(const std::string& token, const std::string& title) {
    auto r = api(port(), "POST", "/blog", token,
                 R"({"shopId":1,"title":")" + title +
                     R"(","images":"/imgs/blogs/a.jpg,/imgs/blogs/b.jpg","content":"好吃"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().at("data").to_number<int64_t>();
  }
  static json::object blog(const std::string& token, int64_t id) {
    auto r = api(port(), "GET", "/blog/" + std::to_string(id), token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().at("data").as_object();
  }

  static std::unique_ptr<SurgeServer> server_;
};
std::unique_ptr<SurgeServer> BlogApiTest::server_;

TEST_F(BlogApiTest, CreateValidatesAndReadsBackWithAuthor) {
  std::string token = login(port(), unique_phone());
  int64_t me = my_id(port(), token);
  auto check = [&](const std::string& body, int status, const std::string& message) {
    auto r = api(port(), "POST", "/blog", token, body);
    EXPECT_EQ(r.status, status) << body << " -> " << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  };
  check("{nope", 400, "malformed JSON body");
  check(R"({"title":"t"})", 400, "invalid field: shopId");
  check(R"({"shopId":"1","title":"t"})", 400, "invalid field: shopId");
  check(R"({"shopId":1})", 400, "invalid field: title");
  check(R"({"shopId":1,"title":"t","images":"1,2,3,4,5,6,7,8,9,10"})", 400,
        "invalid field: images");
  check(R"({"shopId":1,"title":")" + std::string(300, 'x') + R"("})", 400, "invalid field: title");
  check(R"({"shopId":99999999,"title":"t"})", 200, "店铺不存在");

  int64_t id = create_blog(token, "第一篇");
  json::object b = blog(token, id);
  std::set<std::string> keys;
  for (const auto& kv : b) keys.emplace(kv.key());
  std::set<std::string> expected = {"id",      "shopId", "userId",   "title",      "images",
                                    "content", "liked",  "comments", "createTime", "updateTime",
                                    "name",    "icon",   "isLike"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(b.at("userId").to_number<int64_t>(), me);
  EXPECT_EQ(b.at("title"), "第一篇");
  EXPECT_EQ(b.at("liked").to_number<int64_t>(), 0);
  EXPECT_EQ(b.at("isLike"), false);
  EXPECT_EQ(b.at("name"),
            json::value(api(port(), "GET", "/user/me", token).json().at("data").at("nickName")));

  // of/me and of/user give raw rows: no author, no isLike.
  auto mine = api(port(), "GET", "/blog/of/me?current=1", token).json().at("data").as_array();
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].at("id").to_number<int64_t>(), id);
  EXPECT_FALSE(mine[0].as_object().contains("isLike"));
  EXPECT_FALSE(mine[0].as_object().contains("name"));
  auto theirs = api(port(), "GET", "/blog/of/user?id=" + std::to_string(me) + "&current=1", token);
  EXPECT_EQ(theirs.json().at("data").as_array().size(), 1u);
  EXPECT_EQ(api(port(), "GET", "/blog/of/me?current=2", token).json().at("data").as_array().size(),
            0u);
  EXPECT_EQ(api(port(), "GET", "/blog/of/user", token).status, 400);
  EXPECT_EQ(api(port(), "GET", "/blog/of/me?current=0", token).status, 400);

  EXPECT_EQ(api(port(), "GET", "/blog/999999999", token).body,
            R"({"success":false,"errorMsg":"笔记不存在"})");
  EXPECT_EQ(api(port(), "GET", "/blog/x", token).status, 400);
}

TEST_F(BlogApiTest, LikeTogglesAndTopLikersAreTheEarliestFive) {
  std::string author = login(port(), unique_phone());
  int64_t id = create_blog(author, "点赞");
  std::vector<std::string> fans;
  std::vector<int64_t> fan_ids;
  for (int i = 0; i < 6; ++i) {
    fans.push_back(login(port(), unique_phone()));
    fan_ids.push_back(my_id(port(), fans.back()));
    auto r = api(port(), "PUT", "/blog/like/" + std::to_string(id), fans.back());
    ASSERT_EQ(r.body, R"({"success":true})");
    std::this_thread::sleep_for(std::chrono::milliseconds(3));  // distinct like times
  }
  EXPECT_EQ(blog(fans[0], id).at("liked").to_number<int64_t>(), 6);
  EXPECT_EQ(blog(fans[0], id).at("isLike"), true);
  EXPECT_EQ(blog(author, id).at("isLike"), false);
  auto top = api(port(), "GET", "/blog/likes/" + std::to_string(id), author);
  auto list = top.json().at("data").as_array();
  ASSERT_EQ(list.size(), 5u) << top.body;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(list[i].at("id").to_number<int64_t>(), fan_ids[i]);
    EXPECT_EQ(list[i].as_object().size(), 3u);  // UserDTO
  }
  // Unlike: the counter follows.
  api(port(), "PUT", "/blog/like/" + std::to_string(id), fans[0]);
  EXPECT_EQ(blog(author, id).at("liked").to_number<int64_t>(), 5);
  EXPECT_EQ(blog(fans[0], id).at("isLike"), false);
  EXPECT_EQ(redis_cli("ZCARD blog:liked:" + std::to_string(id)), "5");

  EXPECT_EQ(api(port(), "GET", "/blog/likes/999999999", author).body,
            R"({"success":true,"data":[]})");
  EXPECT_EQ(api(port(), "PUT", "/blog/like/999999999", author).body,
            R"({"success":false,"errorMsg":"笔记不存在"})");
}

// Many simultaneous clicks by one user: whatever order they land in, the set and the counter
// end up agreeing (odd number of toggles: liked once; even: not at all).
TEST_F(BlogApiTest, ConcurrentTogglesByOneUserStayConsistent) {
  std::string author = login(port(), unique_phone());
  for (int toggles : {9, 10}) {
    int64_t id = create_blog(author, "并发" + std::to_string(toggles));
    std::string user = login(port(), unique_phone());
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < toggles; ++i) {
      threads.emplace_back([&] {
        auto r = api(port(), "PUT", "/blog/like/" + std::to_string(id), user);
        if (r.body == R"({"success":true})") ++ok;
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(ok.load(), toggles);
    int64_t expected = toggles % 2;
    EXPECT_EQ(redis_cli("ZCARD blog:liked:" + std::to_string(id)), std::to_string(expected));
    auto b = blog(user, id);
    EXPECT_EQ(b.at("liked").to_number<int64_t>(), expected) << toggles << " toggles";
    EXPECT_EQ(b.at("isLike"), expected == 1);
  }
  // Several users at once, three clicks each: every one of them ends up liking it.
  int64_t id = create_blog(author, "多人并发");
  std::vector<std::string> users;
  for (int i = 0; i < 4; ++i) users.push_back(login(port(), unique_phone()));
  std::vector<std::thread> threads;
  for (const auto& u : users) {
    for (int k = 0; k < 3; ++k) {
      threads.emplace_back([&, u] { api(port(), "PUT", "/blog/like/" + std::to_string(id), u); });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redis_cli("ZCARD blog:liked:" + std::to_string(id)), "4");
  EXPECT_EQ(blog(author, id).at("liked").to_number<int64_t>(), 4);
}

TEST_F(BlogApiTest, HotListIsMostLikedFirstWithIsLikeOnlyForReaders) {
  auto anon = api(port(), "GET", "/blog/hot?current=1");
  ASSERT_EQ(anon.status, 200) << anon.body;
  auto list = anon.json().at("data").as_array();
  ASSERT_EQ(list.size(), 10u);
  int64_t previous = INT64_MAX;
  for (const auto& b : list) {
    int64_t liked = b.at("liked").to_number<int64_t>();
    EXPECT_LE(liked, previous);
    previous = liked;
    EXPECT_TRUE(b.as_object().contains("name"));
    EXPECT_TRUE(b.as_object().contains("icon"));
    EXPECT_FALSE(b.as_object().contains("isLike"));
  }
  std::string token = login(port(), unique_phone());
  auto signed_in = api(port(), "GET", "/blog/hot?current=1", token).json().at("data").as_array();
  for (const auto& b : signed_in) EXPECT_TRUE(b.at("isLike").is_bool());
  EXPECT_EQ(api(port(), "GET", "/blog/hot?current=abc").status, 400);
}

// Fan-out on publish, then the feed walked page by page as the web page does, with most of the
// entries sharing one timestamp: every blog exactly once, newest first.
TEST_F(BlogApiTest, FeedPagesNeverRepeatOrSkipWithEqualTimestamps) {
  std::string author = login(port(), unique_phone());
  std::string fan = login(port(), unique_phone());
  int64_t author_id = my_id(port(), author), fan_id = my_id(port(), fan);
  ASSERT_TRUE(api(port(), "PUT", "/follow/" + std::to_string(author_id) + "/true", fan).success());
  std::vector<int64_t> ids;
  for (int i = 0; i < 9; ++i) ids.push_back(create_blog(author, "动态" + std::to_string(i)));
  std::string feed = "feed:" + std::to_string(fan_id);
  ASSERT_EQ(redis_cli("ZCARD " + feed), "9");
  // Rewrite the scores: 7 blogs at one millisecond, 2 older ones at another.
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string score = i < 2 ? "1700000000000" : "1700000000500";
    redis_cli("ZADD " + feed + " " + score + " " + std::to_string(ids[i]));
  }
  std::vector<int64_t> seen;
  int64_t last = 1800000000000, offset = 0;
  for (int page = 0; page < 20; ++page) {
    auto r =
        api(port(), "GET",
            "/blog/of/follow?lastId=" + std::to_string(last) + "&offset=" + std::to_string(offset),
            fan);
    ASSERT_EQ(r.status, 200) << r.body;
    auto v = r.json();
    if (!v.as_object().contains("data")) {
      EXPECT_EQ(r.body, R"({"success":true})");
      break;
    }
    auto data = v.at("data").as_object();
    auto list = data.at("list").as_array();
    ASSERT_LE(list.size(), 2u);  // the original's page size
    for (const auto& b : list) {
      seen.push_back(b.at("id").to_number<int64_t>());
      EXPECT_EQ(b.at("userId").to_number<int64_t>(), author_id);
      EXPECT_TRUE(b.as_object().contains("isLike"));
    }
    last = data.at("minTime").to_number<int64_t>();
    offset = data.at("offset").to_number<int64_t>();
  }
  // ZREVRANGEBYSCORE order: score descending, then member descending (as strings).
  std::vector<int64_t> expected(ids.begin() + 2, ids.end());
  std::vector<int64_t> older(ids.begin(), ids.begin() + 2);
  auto by_member_desc = [](int64_t a, int64_t b) { return std::to_string(a) > std::to_string(b); };
  std::sort(expected.begin(), expected.end(), by_member_desc);
  std::sort(older.begin(), older.end(), by_member_desc);
  expected.insert(expected.end(), older.begin(), older.end());
  EXPECT_EQ(seen, expected);

  EXPECT_EQ(api(port(), "GET", "/blog/of/follow", fan).status, 400);
  EXPECT_EQ(api(port(), "GET", "/blog/of/follow?lastId=1&offset=-1", fan).status, 400);
}

// The original's feeds grew for ever; Surge keeps each follower's newest --feed-keep entries.
TEST_F(BlogApiTest, FeedsKeepOnlyTheNewestEntries) {
  std::string author = login(port(), unique_phone());
  std::string fan = login(port(), unique_phone());
  std::string follow = "/follow/" + std::to_string(my_id(port(), author)) + "/true";
  ASSERT_TRUE(api(port(), "PUT", follow, fan).success());
  std::vector<int64_t> ids;
  for (int i = 0; i < 14; ++i) ids.push_back(create_blog(author, "多" + std::to_string(i)));
  std::string feed = "feed:" + std::to_string(my_id(port(), fan));
  EXPECT_EQ(redis_cli("ZCARD " + feed), "12");
  int missing = 0;
  for (int64_t id : ids) missing += redis_cli("ZSCORE " + feed + " " + std::to_string(id)).empty();
  EXPECT_EQ(missing, 2);
  EXPECT_NE(redis_cli("ZSCORE " + feed + " " + std::to_string(ids.back())), "");
}

}  // namespace
}  // namespace surge::test
