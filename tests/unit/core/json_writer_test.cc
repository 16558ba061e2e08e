// JsonWriter output, byte for byte: structure, string escaping and plain-decimal doubles.
#include "core/json_writer.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(JsonWriter, EmptyContainers) {
  EXPECT_EQ(JsonWriter().begin_object().end_object().str(), "{}");
  EXPECT_EQ(JsonWriter().begin_array().end_array().str(), "[]");
}

TEST(JsonWriter, ObjectFieldsAreCommaSeparated) {
  JsonWriter w;
  w.begin_object().field("id", 1).field("name", "a").field("ok", true).field("n", int64_t{-7});
  w.key("none").null();
  w.end_object();
  EXPECT_EQ(w.str(), R"({"id":1,"name":"a","ok":true,"n":-7,"none":null})");
}

TEST(JsonWriter, NestingPlacesCommasBetweenSiblingsOnly) {
  JsonWriter w;
  w.begin_object();
  w.key("a").begin_array().value(1).value(2).begin_object().end_object().begin_array().end_array();
  w.end_array();
  w.key("b").begin_object().field("c", false).key("d").begin_array().value("x").end_array();
  w.end_object();
  w.field("e", 3);
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":[1,2,{},[]],"b":{"c":false,"d":["x"]},"e":3})");
}

TEST(JsonWriter, TopLevelArrayOfObjects) {
  JsonWriter w;
  w.begin_array();
  for (int i = 1; i <= 3; ++i) w.begin_object().field("id", i).end_object();
  w.end_array();
  EXPECT_EQ(w.str(), R"([{"id":1},{"id":2},{"id":3}])");
}

TEST(JsonWriter, Int64Extremes) {
  JsonWriter w;
  w.begin_array().value(INT64_MAX).value(INT64_MIN).value(0).end_array();
  EXPECT_EQ(w.str(), "[9223372036854775807,-9223372036854775808,0]");
}

TEST(JsonWriter, EscapesQuotesBackslashAndControlCharacters) {
  JsonWriter w;
  w.value(std::string_view("q\"b\\n\nr\rt\tb\bf\f\x01\x1f"));
  EXPECT_EQ(w.str(), R"("q\"b\\n\nr\rt\tb\bf\f\u0001\u001f")");
}

TEST(JsonWriter, EscapesEmbeddedNul) {
  JsonWriter w;
  w.value(std::string_view("a\0b", 3));
  EXPECT_EQ(w.str(), R"("a\u0000b")");
}

TEST(JsonWriter, KeysAreEscapedToo) {
  JsonWriter w;
  w.begin_object().field("k\"ey", 1).end_object();
  EXPECT_EQ(w.str(), R"({"k\"ey":1})");
}

TEST(JsonWriter, Utf8PassesThrough) {
  JsonWriter w;
  w.begin_object().field("name", "中文店铺").field("del", "\x7f").end_object();
  EXPECT_EQ(w.str(), "{\"name\":\"中文店铺\",\"del\":\"\x7f\"}");
}

TEST(JsonWriter, DoublesArePlainDecimals) {
  auto one = [](double v) { return JsonWriter().value(v).take(); };
  EXPECT_EQ(one(120.149993), "120.149993");
  EXPECT_EQ(one(30.259876), "30.259876");
  EXPECT_EQ(one(30.0), "30");
  EXPECT_EQ(one(0.0), "0");
  EXPECT_EQ(one(-0.5), "-0.5");
  EXPECT_EQ(one(0.1), "0.1");
  EXPECT_EQ(one(4.7), "4.7");
  EXPECT_EQ(one(120.0), "120");
  EXPECT_EQ(one(12345678.25), "12345678.25");
}

TEST(JsonWriter, CoordinatesNeverUseExponentForm) {
  // Every 6-decimal coordinate in the seeded range, sampled, must print without 'e'.
  for (int i = 0; i <= 400000; i += 997) {
    double x = 120 + i * 0.000001;
    std::string s = JsonWriter().value(x).take();
    EXPECT_EQ(s.find_first_of("eE"), std::string::npos) << s;
    EXPECT_DOUBLE_EQ(std::stod(s), x);
  }
}

TEST(JsonWriter, NonFiniteDoublesBecomeNull) {
  JsonWriter w;
  w.begin_array()
      .value(std::numeric_limits<double>::quiet_NaN())
      .value(std::numeric_limits<double>::infinity())
      .value(-std::numeric_limits<double>::infinity())
      .value(1.5)
      .end_array();
  EXPECT_EQ(w.str(), "[null,null,null,1.5]");
}

TEST(JsonWriter, NonFiniteFieldKeepsObjectValid) {
  JsonWriter w;
  w.begin_object().field("a", std::numeric_limits<double>::quiet_NaN()).field("b", 2).end_object();
  EXPECT_EQ(w.str(), R"({"a":null,"b":2})");
}

TEST(JsonWriter, RawIsSplicedVerbatimWithCommas) {
  JsonWriter w;
  w.begin_object().key("data").raw(R"([1,{"x":2}])").field("after", 1).end_object();
  EXPECT_EQ(w.str(), R"({"data":[1,{"x":2}],"after":1})");

  JsonWriter a;
  a.begin_array().raw("1").raw(R"("two")").raw("{}").end_array();
  EXPECT_EQ(a.str(), R"([1,"two",{}])");
}

TEST(JsonWriter, TakeMovesTheBuffer) {
  JsonWriter w;
  w.begin_array().value(1).end_array();
  EXPECT_EQ(w.take(), "[1]");
}

TEST(AppendJsonString, AppendsToExistingText) {
  std::string out = "x=";
  append_json_string(out, "a\"b");
  EXPECT_EQ(out, R"(x="a\"b")");
}

}  // namespace
}  // namespace surge::core
