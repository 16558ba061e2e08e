// Router matching (literal over parameter, 404 vs 405, segment limits) and Context helpers.
#include "http/router.h"

#include <string>

#include <gtest/gtest.h>

namespace surge::http {
namespace {

using bhttp::verb;

// Matching never calls handlers, so an empty one is enough.
const Route* find(const Router& r, verb v, std::string_view path) { return r.match(v, path).route; }

TEST(Router, AddReturnsDenseIds) {
  Router r;
  EXPECT_EQ(r.add(verb::get, "/a", {}), 0u);
  EXPECT_EQ(r.add(verb::get, "/b", {}), 1u);
  EXPECT_EQ(r.add(verb::post, "/a", {}), 2u);
  ASSERT_EQ(r.routes().size(), 3u);
  EXPECT_EQ(r.routes()[2].pattern, "/a");
  EXPECT_EQ(r.routes()[2].verb, verb::post);
}

// A second listener's router continues the first one's ids, so both share one Metrics.
TEST(Router, IdsStartWhereTheFirstRouterEnds) {
  Router r(5);
  EXPECT_EQ(r.add(verb::get, "/metrics", {}), 5u);
  EXPECT_EQ(r.add(verb::get, "/dashboard", {}), 6u);
  EXPECT_EQ(r.match(verb::get, "/dashboard").route->id, 6u);
}

TEST(Router, MatchesLiteralPaths) {
  Router r;
  r.add(verb::get, "/shop-type/list", {});
  r.add(verb::get, "/health", {});
  const Route* m = find(r, verb::get, "/health");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pattern, "/health");
  m = find(r, verb::get, "/shop-type/list");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pattern, "/shop-type/list");
  EXPECT_EQ(find(r, verb::get, "/shop-type"), nullptr);
  EXPECT_EQ(find(r, verb::get, "/shop-type/list/x"), nullptr);
  EXPECT_EQ(find(r, verb::get, "/HEALTH"), nullptr);
}

TEST(Router, ExtractsParameters) {
  Router r;
  r.add(verb::get, "/shop/{id}", {});
  r.add(verb::get, "/blog/{blog}/comment/{comment}", {});
  auto m = r.match(verb::get, "/shop/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params[0], "42");
  EXPECT_EQ(m.params[1], "");

  m = r.match(verb::get, "/blog/7/comment/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/blog/{blog}/comment/{comment}");
  EXPECT_EQ(m.params[0], "7");
  EXPECT_EQ(m.params[1], "abc");
}

TEST(Router, LiteralBeatsParameterRegisteredAfter) {
  Router r;
  r.add(verb::get, "/user/{id}", {});
  r.add(verb::get, "/user/me", {});
  const Route* m = find(r, verb::get, "/user/me");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pattern, "/user/me");
  auto other = r.match(verb::get, "/user/5");
  ASSERT_NE(other.route, nullptr);
  EXPECT_EQ(other.route->pattern, "/user/{id}");
  EXPECT_EQ(other.params[0], "5");
}

TEST(Router, LiteralBeatsParameterRegisteredBefore) {
  Router r;
  r.add(verb::get, "/user/me", {});
  r.add(verb::get, "/user/{id}", {});
  const Route* m = find(r, verb::get, "/user/me");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pattern, "/user/me");
  m = find(r, verb::get, "/user/6");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pattern, "/user/{id}");
}

TEST(Router, MoreLiteralsWinAmongMixedPatterns) {
  Router r;
  r.add(verb::get, "/{a}/{b}", {});
  r.add(verb::get, "/x/{b}", {});
  r.add(verb::get, "/{a}/y", {});
  EXPECT_EQ(find(r, verb::get, "/q/z")->pattern, "/{a}/{b}");
  EXPECT_EQ(find(r, verb::get, "/x/z")->pattern, "/x/{b}");
  EXPECT_EQ(find(r, verb::get, "/q/y")->pattern, "/{a}/y");
}

TEST(Router, ParamsComeFromTheWinningRoute) {
  Router r;
  r.add(verb::get, "/{a}/{b}", {});
  r.add(verb::get, "/x/{b}", {});
  auto m = r.match(verb::get, "/x/second");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/x/{b}");
  EXPECT_EQ(m.params[0], "second");
  EXPECT_EQ(m.params[1], "");
}

TEST(Router, TrailingAndDoubledSlashesAreTolerated) {
  Router r;
  r.add(verb::get, "/shop/{id}", {});
  r.add(verb::get, "/health", {});
  auto m = r.match(verb::get, "/shop/3/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params[0], "3");
  EXPECT_NE(find(r, verb::get, "/health/"), nullptr);
  EXPECT_NE(find(r, verb::get, "//shop//9"), nullptr);
}

TEST(Router, RootPath) {
  Router r;
  r.add(verb::get, "/", {});
  EXPECT_NE(find(r, verb::get, "/"), nullptr);
  EXPECT_EQ(find(r, verb::get, "/x"), nullptr);
}

TEST(Router, UnknownPathIsNotKnown) {
  Router r;
  r.add(verb::get, "/shop/{id}", {});
  auto m = r.match(verb::get, "/nothing/here/at/all");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_known);  // 404
}

TEST(Router, MethodMismatchMarksPathKnown) {
  Router r;
  r.add(verb::get, "/shop/{id}", {});
  r.add(verb::post, "/voucher", {});
  auto m = r.match(verb::post, "/shop/1");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);  // 405
  m = r.match(verb::delete_, "/voucher");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_NE(find(r, verb::post, "/voucher"), nullptr);
}

TEST(Router, SameOrderMethodDispatch) {
  Router r;
  size_t get_id = r.add(verb::get, "/item/{id}", {});
  size_t put_id = r.add(verb::put, "/item/{id}", {});
  EXPECT_EQ(find(r, verb::get, "/item/1")->id, get_id);
  EXPECT_EQ(find(r, verb::put, "/item/1")->id, put_id);
}

TEST(Router, TooManySegmentsMatchNothing) {
  Router r;
  r.add(verb::get, "/{a}", {});
  std::string deep;
  for (int i = 0; i < 17; ++i) deep += "/s";
  auto m = r.match(verb::get, deep);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_known);

  // Sixteen segments is still within the limit.
  Router r16;
  std::string pattern;
  std::string path;
  for (int i = 0; i < 16; ++i) {
    pattern += "/s";
    path += "/s";
  }
  r16.add(verb::get, pattern, {});
  EXPECT_NE(find(r16, verb::get, path), nullptr);
}

TEST(Router, ParamSegmentNeedsBothBraces) {
  Router r;
  r.add(verb::get, "/a/{x", {});
  EXPECT_EQ(find(r, verb::get, "/a/1"), nullptr);
  EXPECT_NE(find(r, verb::get, "/a/{x"), nullptr);
}

// Context tests need a request to borrow.
struct ContextTest : ::testing::Test {
  Request req{verb::get, "/x", 11};
  Context ctx(std::string_view query) { return Context{req, "/x", query}; }
};

TEST_F(ContextTest, QueryParamDecodes) {
  auto c = ctx("name=%E4%B8%AD+x&city=hz");
  EXPECT_EQ(c.query_param("name"), "中 x");
  EXPECT_EQ(c.query_param("city"), "hz");
}

TEST_F(ContextTest, QueryParamMissing) {
  EXPECT_EQ(ctx("a=1&b=2").query_param("c"), std::nullopt);
  EXPECT_EQ(ctx("").query_param("a"), std::nullopt);
  // A key that is only a prefix or suffix of another is not a match.
  EXPECT_EQ(ctx("ab=1&ba=2").query_param("a"), std::nullopt);
}

TEST_F(ContextTest, QueryParamFirstValueWins) {
  EXPECT_EQ(ctx("a=1&a=2").query_param("a"), "1");
  EXPECT_EQ(ctx("b=0&a=first&a=second").query_param("a"), "first");
}

TEST_F(ContextTest, QueryParamKeyWithoutValue) {
  EXPECT_EQ(ctx("flag&x=1").query_param("flag"), "");
  EXPECT_EQ(ctx("x=1&flag").query_param("flag"), "");
  EXPECT_EQ(ctx("flag=").query_param("flag"), "");
}

TEST_F(ContextTest, QueryParamValueMayContainEquals) {
  EXPECT_EQ(ctx("expr=a=b").query_param("expr"), "a=b");
}

TEST_F(ContextTest, QueryParamSkipsEmptyPairs) { EXPECT_EQ(ctx("&&a=1&").query_param("a"), "1"); }

TEST_F(ContextTest, QueryParamBadEscapeIsNullopt) {
  EXPECT_EQ(ctx("a=%zz").query_param("a"), std::nullopt);
  EXPECT_EQ(ctx("a=%4").query_param("a"), std::nullopt);
  EXPECT_EQ(ctx("a=1%").query_param("a"), std::nullopt);
}

TEST_F(ContextTest, HeaderLookup) {
  req.set(bhttp::field::user_agent, "tester");
  req.set("X-Custom", "v");
  auto c = ctx("");
  EXPECT_EQ(c.header("User-Agent"), "tester");
  EXPECT_EQ(c.header("x-custom"), "v");  // field names are case-insensitive
  EXPECT_EQ(c.header("missing"), "");
}

TEST(Json, BuildsResponse) {
  Response r = json(201, "{}");
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(r.content_type, "application/json;charset=UTF-8");
  EXPECT_FALSE(r.close);
}

}  // namespace
}  // namespace surge::http
