// Strict parsing of untrusted text: integers, ids, decimals and URL escapes.
#include "core/parse.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(ParseInt64, AcceptsPlainDecimals) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("1"), 1);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("007"), 7);
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
}

TEST(ParseInt64, RejectsEmptySignsAndJunk) {
  EXPECT_EQ(parse_int64(""), std::nullopt);
  EXPECT_EQ(parse_int64("+1"), std::nullopt);
  EXPECT_EQ(parse_int64("-"), std::nullopt);
  EXPECT_EQ(parse_int64("abc"), std::nullopt);
  EXPECT_EQ(parse_int64("1a"), std::nullopt);
  EXPECT_EQ(parse_int64("a1"), std::nullopt);
  EXPECT_EQ(parse_int64(" 1"), std::nullopt);
  EXPECT_EQ(parse_int64("1 "), std::nullopt);
  EXPECT_EQ(parse_int64("1.0"), std::nullopt);
  EXPECT_EQ(parse_int64("0x10"), std::nullopt);
}

TEST(ParseInt64, RejectsOverflow) {
  EXPECT_EQ(parse_int64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_int64("-9223372036854775809"), std::nullopt);
  EXPECT_EQ(parse_int64("99999999999999999999"), std::nullopt);
}

TEST(ParseInt64, EnforcesBoundsInclusively) {
  EXPECT_EQ(parse_int64("10", 10, 20), 10);
  EXPECT_EQ(parse_int64("20", 10, 20), 20);
  EXPECT_EQ(parse_int64("9", 10, 20), std::nullopt);
  EXPECT_EQ(parse_int64("21", 10, 20), std::nullopt);
  EXPECT_EQ(parse_int64("-5", -5, -1), -5);
  EXPECT_EQ(parse_int64("0", -5, -1), std::nullopt);
}

TEST(ParseId, AcceptsPositiveIdsOnly) {
  EXPECT_EQ(parse_id("1"), 1);
  EXPECT_EQ(parse_id("42"), 42);
  EXPECT_EQ(parse_id("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_id("0"), std::nullopt);
  EXPECT_EQ(parse_id("-1"), std::nullopt);
  EXPECT_EQ(parse_id("+1"), std::nullopt);
  EXPECT_EQ(parse_id(""), std::nullopt);
  EXPECT_EQ(parse_id("abc"), std::nullopt);
  EXPECT_EQ(parse_id("1a"), std::nullopt);
  EXPECT_EQ(parse_id("99999999999999999999"), std::nullopt);
}

TEST(ParseDouble, AcceptsFixedNotation) {
  EXPECT_EQ(parse_double("0"), 0.0);
  EXPECT_EQ(parse_double("120.149993"), 120.149993);
  EXPECT_EQ(parse_double("-30.5"), -30.5);
  EXPECT_EQ(parse_double("30"), 30.0);
  EXPECT_EQ(parse_double(".5"), 0.5);
}

TEST(ParseDouble, RejectsExponentsNonFiniteAndJunk) {
  EXPECT_EQ(parse_double(""), std::nullopt);
  EXPECT_EQ(parse_double("+1.5"), std::nullopt);
  EXPECT_EQ(parse_double("1e5"), std::nullopt);
  EXPECT_EQ(parse_double("1E5"), std::nullopt);
  EXPECT_EQ(parse_double("nan"), std::nullopt);
  EXPECT_EQ(parse_double("NaN"), std::nullopt);
  EXPECT_EQ(parse_double("inf"), std::nullopt);
  EXPECT_EQ(parse_double("-inf"), std::nullopt);
  EXPECT_EQ(parse_double("infinity"), std::nullopt);
  EXPECT_EQ(parse_double("0x1p3"), std::nullopt);
  EXPECT_EQ(parse_double("1.5x"), std::nullopt);
  EXPECT_EQ(parse_double("1,5"), std::nullopt);
  EXPECT_EQ(parse_double(" 1"), std::nullopt);
}

TEST(UrlDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(url_decode(""), "");
  EXPECT_EQ(url_decode("plain"), "plain");
  EXPECT_EQ(url_decode("%41"), "A");
  EXPECT_EQ(url_decode("a%41b"), "aAb");
  EXPECT_EQ(url_decode("%4a%4A"), "JJ");
  EXPECT_EQ(url_decode("a+b"), "a b");
  EXPECT_EQ(url_decode("%2B"), "+");
  EXPECT_EQ(url_decode("%25"), "%");
  EXPECT_EQ(url_decode("%E4%B8%AD"), "中");
  // An escaped NUL is data, not a terminator.
  EXPECT_EQ(url_decode("a%00b"), std::string("a\0b", 3));
}

TEST(UrlDecode, RejectsMalformedEscapes) {
  EXPECT_EQ(url_decode("%"), std::nullopt);
  EXPECT_EQ(url_decode("abc%"), std::nullopt);
  EXPECT_EQ(url_decode("%4"), std::nullopt);
  EXPECT_EQ(url_decode("ab%4"), std::nullopt);
  EXPECT_EQ(url_decode("%zz"), std::nullopt);
  EXPECT_EQ(url_decode("%4g"), std::nullopt);
  EXPECT_EQ(url_decode("%g4"), std::nullopt);
  EXPECT_EQ(url_decode("ok%41%"), std::nullopt);
}

}  // namespace
}  // namespace surge::core

namespace surge::core {
namespace {

TEST(ParseDatetime, LocalDateTimeFormsAsUtcMilliseconds) {
  EXPECT_EQ(parse_datetime_ms("1970-01-01T00:00:00"), 0);
  EXPECT_EQ(parse_datetime_ms("2022-01-01T00:00:00"), 1640995200000);
  EXPECT_EQ(parse_datetime_ms("2024-02-29 23:59:59"), 1709251199000);
  EXPECT_EQ(format_datetime(1709251199999), "2024-02-29T23:59:59");
  EXPECT_EQ(format_datetime(1640995200000), "2022-01-01T00:00:00");
  for (int64_t ms : {int64_t{0}, int64_t{951782400000}, int64_t{4102444799000}}) {
    EXPECT_EQ(parse_datetime_ms(format_datetime(ms)), ms);
  }
}

TEST(ParseDatetime, RejectsEverythingElse) {
  for (const char* bad : {"", "2023-02-29T00:00:00", "2022-13-01T00:00:00", "2022-01-01",
                          "2022-01-01T24:00:00", "2022-01-01T00:00:00Z", "2022/01/01 00:00:00",
                          "1969-12-31T23:59:59", "２０２２-01-01T00:00:00"}) {
    EXPECT_FALSE(parse_datetime_ms(bad)) << bad;
  }
}

}  // namespace
}  // namespace surge::core
