// RESP encoding of commands: exact wire bytes for every argument kind, pipelines, and the
// begin()/arg() builder.
#include "redis/command.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "redis/reply.h"

namespace surge::redis {
namespace {

using namespace std::string_literals;

// The bulk-string form of one argument, written out by hand so the expectations do not share
// code with the encoder.
std::string wire_bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// Decodes the wire form with the reply decoder (a command is a RESP array of bulk strings) and
// returns each command's arguments, so tests can check what a server would actually parse.
std::vector<std::vector<std::string>> parse_wire(const std::string& wire) {
  Decoder d;
  EXPECT_TRUE(d.feed(wire.data(), wire.size()));
  std::vector<std::vector<std::string>> out;
  for (;;) {
    auto r = d.next();
    EXPECT_TRUE(r);
    if (!r || !*r) break;
    const Reply& cmd = **r;
    EXPECT_EQ(cmd.type, Reply::Type::kArray);
    std::vector<std::string> args;
    for (const Reply& a : cmd.elements) {
      EXPECT_EQ(a.type, Reply::Type::kString);
      args.push_back(a.str);
    }
    out.push_back(std::move(args));
  }
  return out;
}

TEST(Command, DefaultIsEmpty) {
  Command c;
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.reply_count(), 0u);
  EXPECT_EQ(c.wire(), "");
}

TEST(Command, SetEncodesAsArrayOfBulkStrings) {
  Command c = Command::make("SET", "k", "v");
  EXPECT_EQ(c.wire(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  EXPECT_EQ(c.reply_count(), 1u);
  EXPECT_FALSE(c.empty());
}

TEST(Command, SingleWordCommand) {
  EXPECT_EQ(Command::make("PING").wire(), "*1\r\n$4\r\nPING\r\n");
}

TEST(Command, AcceptsStdStringAndStringViewArguments) {
  std::string key = "user:42";
  std::string_view field = "name";
  const char* value = "Ann";
  EXPECT_EQ(
      Command::make("HSET", key, field, value).wire(),
      "*4\r\n" + wire_bulk("HSET") + wire_bulk("user:42") + wire_bulk("name") + wire_bulk("Ann"));
}

TEST(Command, IntegersAreDecimalBulkStrings) {
  EXPECT_EQ(Command::make("EXPIRE", "k", 60).wire(),
            "*3\r\n" + wire_bulk("EXPIRE") + wire_bulk("k") + wire_bulk("60"));
  EXPECT_EQ(Command::make("INCRBY", "k", -7).wire(),
            "*3\r\n" + wire_bulk("INCRBY") + wire_bulk("k") + wire_bulk("-7"));
  EXPECT_EQ(Command::make("X", 0).wire(), "*2\r\n" + wire_bulk("X") + wire_bulk("0"));
}

TEST(Command, IntegerExtremesAndWidths) {
  EXPECT_EQ(Command::make(std::numeric_limits<int64_t>::max()).wire(),
            "*1\r\n" + wire_bulk("9223372036854775807"));
  EXPECT_EQ(Command::make(std::numeric_limits<int64_t>::min()).wire(),
            "*1\r\n" + wire_bulk("-9223372036854775808"));
  EXPECT_EQ(Command::make(short{-3}, 7u, 8L, uint32_t{4000000000u}).wire(),
            "*4\r\n" + wire_bulk("-3") + wire_bulk("7") + wire_bulk("8") + wire_bulk("4000000000"));
}

TEST(Command, LargeUnsignedIntegersKeepTheirValue) {
  // Regression: unsigned values above INT64_MAX once wrapped to negative numbers.
  EXPECT_EQ(Command::make(std::numeric_limits<uint64_t>::max()).wire(),
            "*1\r\n" + wire_bulk("18446744073709551615"));
  EXPECT_EQ(Command::make(uint64_t{1} << 63).wire(), "*1\r\n" + wire_bulk("9223372036854775808"));
}

TEST(Command, DoublesUseShortestRoundTripForm) {
  EXPECT_EQ(Command::make("ZADD", "z", 1.5, "m").wire(),
            "*4\r\n" + wire_bulk("ZADD") + wire_bulk("z") + wire_bulk("1.5") + wire_bulk("m"));
  EXPECT_EQ(Command::make(0.1).wire(), "*1\r\n" + wire_bulk("0.1"));
  EXPECT_EQ(Command::make(-2.25).wire(), "*1\r\n" + wire_bulk("-2.25"));
  // Redis's own spelling of the infinities, accepted by ZADD and ZRANGEBYSCORE.
  EXPECT_EQ(Command::make(std::numeric_limits<double>::infinity()).wire(),
            "*1\r\n" + wire_bulk("inf"));
  EXPECT_EQ(Command::make(-std::numeric_limits<double>::infinity()).wire(),
            "*1\r\n" + wire_bulk("-inf"));
}

TEST(Command, DoublesParseBackToTheSameValue) {
  const double values[] = {0.1 + 0.2,
                           1.0 / 3.0,
                           3.0,
                           -0.0,
                           1e300,
                           -1e-300,
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::denorm_min(),
                           123456789.125};
  for (double v : values) {
    auto args = parse_wire(Command::make(v).wire());
    ASSERT_EQ(args.size(), 1u);
    ASSERT_EQ(args[0].size(), 1u);
    double back = std::strtod(args[0][0].c_str(), nullptr);
    EXPECT_EQ(back, v) << args[0][0];
    EXPECT_EQ(std::signbit(back), std::signbit(v)) << args[0][0];
  }
}

TEST(Command, EmptyStringIsAZeroLengthBulk) {
  EXPECT_EQ(Command::make("SET", "k", "").wire(),
            "*3\r\n" + wire_bulk("SET") + wire_bulk("k") + "$0\r\n\r\n");
  EXPECT_EQ(Command::make("SET", "k", std::string()).wire(),
            "*3\r\n" + wire_bulk("SET") + wire_bulk("k") + "$0\r\n\r\n");
}

TEST(Command, BinaryArgumentsAreLengthPrefixedNotEscaped) {
  std::string value = "a\0b\r\nc\r\n\0"s;
  ASSERT_EQ(value.size(), 9u);
  Command c = Command::make("SET", "bin", value);
  EXPECT_EQ(c.wire(), "*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$9\r\na\0b\r\nc\r\n\0\r\n"s);
  auto args = parse_wire(c.wire());
  ASSERT_EQ(args.size(), 1u);
  ASSERT_EQ(args[0].size(), 3u);
  EXPECT_EQ(args[0][2], value);
}

TEST(Command, AllByteValuesSurviveEncoding) {
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  auto args = parse_wire(Command::make("SET", "k", value).wire());
  ASSERT_EQ(args.size(), 1u);
  EXPECT_EQ(args[0][2], value);
}

TEST(Command, PipelineConcatenatesAndCountsReplies) {
  Command c;
  c.add("SET", "a", "1").add("INCR", "a").add("GET", "a");
  EXPECT_EQ(c.reply_count(), 3u);
  EXPECT_EQ(c.wire(), Command::make("SET", "a", "1").wire() + Command::make("INCR", "a").wire() +
                          Command::make("GET", "a").wire());
  auto args = parse_wire(c.wire());
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], (std::vector<std::string>{"SET", "a", "1"}));
  EXPECT_EQ(args[1], (std::vector<std::string>{"INCR", "a"}));
  EXPECT_EQ(args[2], (std::vector<std::string>{"GET", "a"}));
}

TEST(Command, AddAfterMakeExtendsThePipeline) {
  Command c = Command::make("MULTI");
  c.add("INCR", "n").add("EXEC");
  EXPECT_EQ(c.reply_count(), 3u);
  EXPECT_EQ(c.wire(), "*1\r\n" + wire_bulk("MULTI") + "*2\r\n" + wire_bulk("INCR") +
                          wire_bulk("n") + "*1\r\n" + wire_bulk("EXEC"));
}

TEST(Command, BeginAndArgBuildTheSameBytesAsMake) {
  Command c;
  c.begin(5).arg("SET").arg(std::string_view("k")).arg("v").arg("EX").arg(int64_t{10});
  EXPECT_EQ(c.wire(), Command::make("SET", "k", "v", "EX", 10).wire());
  EXPECT_EQ(c.reply_count(), 1u);
}

TEST(Command, BeginWithRuntimeArgumentCount) {
  // The form used for variadic commands whose arity is only known at run time.
  std::vector<std::string> keys = {"k1", "k2", "k3", "k4"};
  Command c;
  c.begin(keys.size() + 1).arg("MGET");
  for (const auto& k : keys) c.arg(k);
  c.begin(2).arg("ZSCORE").arg(2.5);
  EXPECT_EQ(c.reply_count(), 2u);
  EXPECT_EQ(c.wire(), "*5\r\n" + wire_bulk("MGET") + wire_bulk("k1") + wire_bulk("k2") +
                          wire_bulk("k3") + wire_bulk("k4") + "*2\r\n" + wire_bulk("ZSCORE") +
                          wire_bulk("2.5"));
}

TEST(Command, LongArgumentHasMultiDigitLength) {
  std::string value(123456, 'x');
  Command c = Command::make("SET", "k", value);
  const std::string& wire = c.wire();
  std::string head = "*3\r\n" + wire_bulk("SET") + wire_bulk("k") + "$123456\r\n";
  ASSERT_GT(wire.size(), head.size());
  EXPECT_EQ(wire.substr(0, head.size()), head);
  EXPECT_EQ(wire.size(), head.size() + value.size() + 2);
  EXPECT_EQ(wire.substr(wire.size() - 2), "\r\n");
}

}  // namespace
}  // namespace surge::redis
