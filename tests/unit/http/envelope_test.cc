// The JSON envelope's exact bytes, since clients of the original API compare them literally.
#include "http/envelope.h"

#include <gtest/gtest.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

namespace surge::http::envelope {
namespace {

namespace json = boost::json;

TEST(Envelope, Ok) { EXPECT_EQ(ok(), R"({"success":true})"); }

TEST(Envelope, OkWithData) {
  json::object o;
  o["id"] = 1;
  EXPECT_EQ(ok(o), R"({"success":true,"data":{"id":1}})");
  EXPECT_EQ(ok(json::value("s")), R"({"success":true,"data":"s"})");
  EXPECT_EQ(ok(json::array{1, 2}), R"({"success":true,"data":[1,2]})");
}

TEST(Envelope, OkRawSplicesVerbatim) {
  EXPECT_EQ(ok_raw(R"({"x":120.149993})"), R"({"success":true,"data":{"x":120.149993}})");
  EXPECT_EQ(ok_raw("[]"), R"({"success":true,"data":[]})");
  EXPECT_EQ(ok_raw("null"), R"({"success":true,"data":null})");
}

TEST(Envelope, Fail) {
  EXPECT_EQ(fail("nope"), R"({"success":false,"errorMsg":"nope"})");
  EXPECT_EQ(fail(""), R"({"success":false,"errorMsg":""})");
}

TEST(Envelope, FailEscapesQuotesAndBackslashes) {
  EXPECT_EQ(fail(R"(say "hi" \ bye)"), R"({"success":false,"errorMsg":"say \"hi\" \\ bye"})");
}

TEST(Envelope, FailEscapesControlCharacters) {
  EXPECT_EQ(fail("a\nb\x01"), R"({"success":false,"errorMsg":"a\nb\u0001"})");
}

TEST(Envelope, FailKeepsUnicode) {
  EXPECT_EQ(fail("店铺不存在"), "{\"success\":false,\"errorMsg\":\"店铺不存在\"}");
  // Whatever the bytes, the result is valid JSON that decodes back to the message.
  auto v = json::parse(fail("服务器异常 \"x\""));
  EXPECT_EQ(v.at("errorMsg").as_string(), "服务器异常 \"x\"");
  EXPECT_FALSE(v.at("success").as_bool());
}

TEST(Envelope, FailWithData) {
  json::object data;
  data["redis"] = "down";
  data["mariadb"] = "up";
  std::string out = fail("dependency down", data);
  EXPECT_EQ(
      out,
      R"({"success":false,"errorMsg":"dependency down","data":{"redis":"down","mariadb":"up"}})");
  EXPECT_EQ(fail("m", json::array{}), R"({"success":false,"errorMsg":"m","data":[]})");
}

TEST(Envelope, EveryFormParses) {
  for (const std::string& s :
       {ok(), ok(json::array{1}), ok_raw("{}"), fail("x\ty"), fail("x", json::value(nullptr))}) {
    json::error_code ec;
    auto v = json::parse(s, ec);
    EXPECT_FALSE(ec) << s;
    EXPECT_TRUE(v.is_object()) << s;
  }
}

}  // namespace
}  // namespace surge::http::envelope
