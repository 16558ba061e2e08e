// The streaming RESP decoder: every reply type, arbitrary chunking of the input, corrupt input and
// recovery, and the Reply accessors.
#include "redis/reply.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis/commands.h"

namespace surge::redis {
namespace {

using namespace std::string_literals;

// A canonical, type-tagged rendering: unlike to_debug_string it tells a status "OK" from a bulk
// "OK" and shows lengths, so two replies render alike only if they are equal.
std::string canon(const Reply& r) {
  switch (r.type) {
    case Reply::Type::kNil:
      return "nil";
    case Reply::Type::kStatus:
      return "status(" + std::to_string(r.str.size()) + ":" + r.str + ")";
    case Reply::Type::kError:
      return "error(" + std::to_string(r.str.size()) + ":" + r.str + ")";
    case Reply::Type::kString:
      return "bulk(" + std::to_string(r.str.size()) + ":" + r.str + ")";
    case Reply::Type::kInteger:
      return "int(" + std::to_string(r.integer) + ")";
    case Reply::Type::kArray: {
      std::string out = "array" + std::to_string(r.elements.size()) + "[";
      for (const Reply& e : r.elements) out += canon(e) + ";";
      return out + "]";
    }
  }
  return "?";
}

// Feeds every chunk in turn and drains all complete replies after each one.
std::vector<std::string> decode_chunks(Decoder& d, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const std::string& chunk : chunks) {
    EXPECT_TRUE(d.feed(chunk.data(), chunk.size()));
    for (;;) {
      auto r = d.next();
      EXPECT_TRUE(r) << "protocol error after " << out.size() << " replies";
      if (!r || !*r) break;
      out.push_back(canon(**r));
    }
  }
  return out;
}

std::vector<std::string> decode_all(const std::string& bytes) {
  Decoder d;
  return decode_chunks(d, {bytes});
}

// RESP bulk-string framing of `payload`, built by appending (GCC 12 misreports long + chains).
std::string bulk_wire(const std::string& payload) {
  std::string out = "$";
  out.append(std::to_string(payload.size())).append("\r\n").append(payload).append("\r\n");
  return out;
}

// Decodes exactly one reply from a complete buffer.
Reply decode_one(const std::string& bytes) {
  Decoder d;
  EXPECT_TRUE(d.feed(bytes.data(), bytes.size()));
  auto r = d.next();
  EXPECT_TRUE(r);
  if (!r || !*r) {
    ADD_FAILURE() << "no complete reply in " << bytes.size() << " bytes";
    return Reply{};
  }
  auto rest = d.next();
  EXPECT_TRUE(rest && !*rest) << "more than one reply";
  return std::move(**r);
}

TEST(Decoder, Status) {
  Reply r = decode_one("+OK\r\n");
  EXPECT_EQ(r.type, Reply::Type::kStatus);
  EXPECT_EQ(r.str, "OK");
  EXPECT_TRUE(r.is_string());
  EXPECT_FALSE(r.is_error());
}

TEST(Decoder, Error) {
  Reply r = decode_one("-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(r.type, Reply::Type::kError);
  EXPECT_TRUE(r.is_error());
  EXPECT_FALSE(r.is_string());
  EXPECT_EQ(r.str, "ERR value is not an integer or out of range");
}

TEST(Decoder, Integers) {
  Reply r = decode_one(":1000\r\n");
  EXPECT_EQ(r.type, Reply::Type::kInteger);
  EXPECT_EQ(r.integer, 1000);
  EXPECT_EQ(decode_one(":0\r\n").integer, 0);
  EXPECT_EQ(decode_one(":-42\r\n").integer, -42);
  EXPECT_EQ(decode_one(":9223372036854775807\r\n").integer, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(decode_one(":-9223372036854775808\r\n").integer, std::numeric_limits<int64_t>::min());
}

TEST(Decoder, BulkString) {
  Reply r = decode_one("$5\r\nhello\r\n");
  EXPECT_EQ(r.type, Reply::Type::kString);
  EXPECT_EQ(r.str, "hello");
  EXPECT_TRUE(r.is_string());
}

TEST(Decoder, NilBulkString) {
  Reply r = decode_one("$-1\r\n");
  EXPECT_EQ(r.type, Reply::Type::kNil);
  EXPECT_TRUE(r.is_nil());
  EXPECT_FALSE(r.is_string());
}

TEST(Decoder, EmptyBulkStringIsNotNil) {
  Reply r = decode_one("$0\r\n\r\n");
  EXPECT_EQ(r.type, Reply::Type::kString);
  EXPECT_EQ(r.str, "");
  EXPECT_FALSE(r.is_nil());
}

TEST(Decoder, NilArray) {
  Reply r = decode_one("*-1\r\n");
  EXPECT_EQ(r.type, Reply::Type::kNil);
  EXPECT_TRUE(r.elements.empty());
}

TEST(Decoder, EmptyArray) {
  Reply r = decode_one("*0\r\n");
  EXPECT_EQ(r.type, Reply::Type::kArray);
  EXPECT_TRUE(r.is_array());
  EXPECT_TRUE(r.elements.empty());
}

TEST(Decoder, FlatArrayOfMixedTypes) {
  Reply r = decode_one("*5\r\n$3\r\nfoo\r\n:7\r\n$-1\r\n+QUEUED\r\n-WRONGTYPE bad\r\n");
  ASSERT_EQ(r.type, Reply::Type::kArray);
  ASSERT_EQ(r.elements.size(), 5u);
  EXPECT_EQ(canon(r), "array5[bulk(3:foo);int(7);nil;status(6:QUEUED);error(13:WRONGTYPE bad);]");
}

TEST(Decoder, ArraysNestedThreeDeep) {
  // [[["a", 1], []], "b", [nil, [2]]]
  std::string wire =
      "*3\r\n"
      "*2\r\n*2\r\n$1\r\na\r\n:1\r\n*0\r\n"
      "$1\r\nb\r\n"
      "*2\r\n$-1\r\n*1\r\n:2\r\n";
  Reply r = decode_one(wire);
  ASSERT_EQ(r.type, Reply::Type::kArray);
  ASSERT_EQ(r.elements.size(), 3u);
  const Reply& inner = r.elements[0].elements[0];
  ASSERT_EQ(inner.type, Reply::Type::kArray);
  ASSERT_EQ(inner.elements.size(), 2u);
  EXPECT_EQ(inner.elements[0].str, "a");
  EXPECT_EQ(inner.elements[1].integer, 1);
  EXPECT_EQ(r.elements[2].elements[1].elements[0].integer, 2);
  EXPECT_EQ(canon(r),
            "array3[array2[array2[bulk(1:a);int(1);];array0[];];bulk(1:b);"
            "array2[nil;array1[int(2);];];]");
}

TEST(Decoder, NestingBeyondTheReaderLimitIsAProtocolErrorNotACrash) {
  // hiredis 0.14 supports seven levels below the root; deeper must fail cleanly.
  std::string ok;
  for (int i = 0; i < 7; ++i) ok += "*1\r\n";
  ok += ":1\r\n";
  EXPECT_EQ(decode_one(ok).type, Reply::Type::kArray);

  std::string deep;
  for (int i = 0; i < 12; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  Decoder d;
  ASSERT_TRUE(d.feed(deep.data(), deep.size()));
  auto r = d.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kProtocol);
}

TEST(Decoder, BinaryBulkKeepsEveryByte) {
  std::string payload = "\r\n\0x\r\n\0\0$3\r\n*1\r\n"s;
  std::string wire = bulk_wire(payload);
  Reply r = decode_one(wire);
  EXPECT_EQ(r.type, Reply::Type::kString);
  EXPECT_EQ(r.str.size(), payload.size());
  EXPECT_EQ(r.str, payload);
}

TEST(Decoder, LargeBulkInSocketSizedChunks) {
  std::string payload(1 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 % 251);
  std::string wire = bulk_wire(payload);
  Decoder d;
  std::vector<std::string> chunks;
  for (size_t at = 0; at < wire.size(); at += 65536) chunks.push_back(wire.substr(at, 65536));
  // Only the last chunk completes the reply.
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    ASSERT_TRUE(d.feed(chunks[i].data(), chunks[i].size()));
    auto r = d.next();
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r) << "reply complete after chunk " << i;
  }
  ASSERT_TRUE(d.feed(chunks.back().data(), chunks.back().size()));
  auto r = d.next();
  ASSERT_TRUE(r);
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->str, payload);
}

TEST(Decoder, NextWithoutInputWantsMore) {
  Decoder d;
  auto r = d.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  ASSERT_TRUE(d.feed("", 0));
  r = d.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

// Several replies of every kind back to back, as one read from a pipelined connection would see.
const std::string kStream =
    "+OK\r\n"
    "-ERR wrong number of arguments\r\n"
    ":12345\r\n"
    ":-1\r\n"
    "$11\r\nhello world\r\n"
    "$-1\r\n"
    "$0\r\n\r\n"
    "*-1\r\n"
    "*0\r\n"
    "$5\r\na\r\n\0b\r\n"s +
    "*3\r\n*2\r\n*1\r\n$2\r\nzz\r\n:9\r\n$-1\r\n+PONG\r\n"
    "*4\r\n$1\r\nk\r\n$1\r\nv\r\n$5\r\nfield\r\n$0\r\n\r\n";

TEST(DecoderChunking, WholeStreamDecodesToTheExpectedReplies) {
  std::vector<std::string> want = {
      "status(2:OK)",
      "error(29:ERR wrong number of arguments)",
      "int(12345)",
      "int(-1)",
      "bulk(11:hello world)",
      "nil",
      "bulk(0:)",
      "nil",
      "array0[]",
      "bulk(5:a\r\n\0b)"s,
      "array3[array2[array1[bulk(2:zz);];int(9);];nil;status(4:PONG);]",
      "array4[bulk(1:k);bulk(1:v);bulk(5:field);bulk(0:);]",
  };
  EXPECT_EQ(decode_all(kStream), want);
}

TEST(DecoderChunking, EverySplitPointYieldsTheSameReplies) {
  const std::vector<std::string> want = decode_all(kStream);
  ASSERT_EQ(want.size(), 12u);
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    Decoder d;
    auto got = decode_chunks(d, {kStream.substr(0, cut), kStream.substr(cut)});
    ASSERT_EQ(got, want) << "split at byte " << cut;
  }
}

TEST(DecoderChunking, ByteByByteYieldsTheSameReplies) {
  const std::vector<std::string> want = decode_all(kStream);
  std::vector<std::string> bytes;
  for (char c : kStream) bytes.emplace_back(1, c);
  Decoder d;
  EXPECT_EQ(decode_chunks(d, bytes), want);
}

TEST(DecoderChunking, RepliesAppearExactlyWhenTheirLastByteArrives) {
  // After each byte, the number of complete replies must equal the number of reply ends seen:
  // nothing is emitted early (before its final \r\n) or held back.
  const std::vector<std::string> pieces = {"+OK\r\n", ":5\r\n", "$3\r\nabc\r\n",
                                           "*2\r\n$1\r\nx\r\n:1\r\n"};
  std::string stream;
  std::vector<size_t> ends;
  for (const std::string& p : pieces) {
    stream += p;
    ends.push_back(stream.size());
  }
  Decoder d;
  size_t emitted = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(d.feed(&stream[i], 1));
    for (;;) {
      auto r = d.next();
      ASSERT_TRUE(r);
      if (!*r) break;
      ++emitted;
    }
    size_t expected = 0;
    for (size_t e : ends) expected += (e <= i + 1) ? 1 : 0;
    ASSERT_EQ(emitted, expected) << "after byte " << i + 1;
  }
}

TEST(DecoderErrors, UnknownTypeByteIsAProtocolError) {
  Decoder d;
  const std::string bad = "?garbage\r\n";
  ASSERT_TRUE(d.feed(bad.data(), bad.size()));
  auto r = d.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kProtocol);
}

TEST(DecoderErrors, GarbageAfterAGoodReplyFailsOnlyAfterTheGoodOne) {
  Decoder d;
  const std::string bytes = "+OK\r\n!!!not resp\r\n";
  ASSERT_TRUE(d.feed(bytes.data(), bytes.size()));
  auto first = d.next();
  ASSERT_TRUE(first);
  ASSERT_TRUE(*first);
  EXPECT_EQ(canon(**first), "status(2:OK)");
  auto second = d.next();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), Errc::kProtocol);
}

TEST(DecoderErrors, BadLengthsAreProtocolErrors) {
  for (const std::string bad : {"$-2\r\n", "*-5\r\n"}) {
    Decoder d;
    ASSERT_TRUE(d.feed(bad.data(), bad.size()));
    auto r = d.next();
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), Errc::kProtocol) << bad;
  }
}

// Regression (found by fuzz/resp): the declared element count was trusted, so a few bytes
// ("*400000005") made the decoder allocate tens of gigabytes before any element arrived.
TEST(DecoderErrors, AHugeDeclaredArrayCostsOnlyWhatArrives) {
  Decoder d;
  const std::string head = "*2000000000\r\n:1\r\n$2\r\nab\r\n";
  ASSERT_TRUE(d.feed(head.data(), head.size()));
  auto r = d.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);  // incomplete: waits for the rest, holding two elements
  // A short one still decodes normally, nested too.
  EXPECT_EQ(decode_all("*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n"),
            std::vector<std::string>{"array2[array3[int(1);int(2);int(3);];bulk(1:x);]"});
}

TEST(DecoderErrors, ErrorIsStickyUntilReset) {
  Decoder d;
  const std::string bad = "?garbage\r\n";
  ASSERT_TRUE(d.feed(bad.data(), bad.size()));
  ASSERT_FALSE(d.next());
  // Valid bytes afterwards do not resurrect a corrupt stream.
  const std::string good = "+OK\r\n";
  auto fed = d.feed(good.data(), good.size());
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error(), Errc::kProtocol);
  auto again = d.next();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::kProtocol);
}

TEST(DecoderErrors, ResetRecoversFromAnError) {
  Decoder d;
  const std::string bad = "?garbage\r\n";
  ASSERT_TRUE(d.feed(bad.data(), bad.size()));
  ASSERT_FALSE(d.next());
  d.reset();
  EXPECT_EQ(decode_chunks(d, {":1\r\n$2\r\nok\r\n"}),
            (std::vector<std::string>{"int(1)", "bulk(2:ok)"}));
}

TEST(DecoderErrors, ResetDropsAHalfReadReply) {
  // After a reconnect the tail of the old connection's reply must not leak into the new one.
  Decoder d;
  const std::string partial = "*3\r\n$3\r\nabc\r\n:1";
  ASSERT_TRUE(d.feed(partial.data(), partial.size()));
  auto r = d.next();
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  d.reset();
  EXPECT_EQ(decode_chunks(d, {"+OK\r\n"}), (std::vector<std::string>{"status(2:OK)"}));
}

TEST(ReplyAccessors, AsIntegerReadsIntegersAndNumericBulks) {
  EXPECT_EQ(decode_one(":77\r\n").as_integer(), 77);
  EXPECT_EQ(decode_one("$3\r\n-12\r\n").as_integer(), -12);
  EXPECT_EQ(decode_one("$19\r\n9223372036854775807\r\n").as_integer(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(decode_one("$20\r\n-9223372036854775808\r\n").as_integer(),
            std::numeric_limits<int64_t>::min());
}

TEST(ReplyAccessors, AsIntegerRejectsEverythingElse) {
  EXPECT_EQ(decode_one("$0\r\n\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("$3\r\n12a\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("$3\r\n1.5\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("$3\r\n 12\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("$19\r\n9223372036854775808\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("+12\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("-12\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("$-1\r\n").as_integer(), std::nullopt);
  EXPECT_EQ(decode_one("*1\r\n:1\r\n").as_integer(), std::nullopt);
}

TEST(ReplyAccessors, AsStringCoversBulkAndStatusOnly) {
  EXPECT_EQ(decode_one("$3\r\nabc\r\n").as_string(), "abc");
  EXPECT_EQ(decode_one("$0\r\n\r\n").as_string(), "");
  EXPECT_EQ(decode_one("+OK\r\n").as_string(), "OK");
  EXPECT_EQ(decode_one("-ERR x\r\n").as_string(), std::nullopt);
  EXPECT_EQ(decode_one(":5\r\n").as_string(), std::nullopt);
  EXPECT_EQ(decode_one("$-1\r\n").as_string(), std::nullopt);
  EXPECT_EQ(decode_one("*0\r\n").as_string(), std::nullopt);
  Reply bin = decode_one("$3\r\na\0b\r\n"s);
  ASSERT_TRUE(bin.as_string());
  EXPECT_EQ(*bin.as_string(), "a\0b"s);
}

TEST(ReplyAccessors, DefaultReplyIsNil) {
  Reply r;
  EXPECT_TRUE(r.is_nil());
  EXPECT_EQ(r.as_string(), std::nullopt);
  EXPECT_EQ(r.as_integer(), std::nullopt);
}

TEST(ReplyDebugString, RendersEachType) {
  EXPECT_EQ(to_debug_string(decode_one("+OK\r\n")), "OK");
  EXPECT_EQ(to_debug_string(decode_one("-ERR no\r\n")), "(error) ERR no");
  EXPECT_EQ(to_debug_string(decode_one("$2\r\nhi\r\n")), "\"hi\"");
  EXPECT_EQ(to_debug_string(decode_one(":3\r\n")), "(integer) 3");
  EXPECT_EQ(to_debug_string(decode_one("$-1\r\n")), "(nil)");
  EXPECT_EQ(to_debug_string(decode_one("*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n")),
            "[(integer) 1, [\"x\"], (nil)]");
}

// A restarted server answers LOADING until its data is back, a cluster TRYAGAIN or CLUSTERDOWN
// between masters: transient, so callers answer 503 and retry, not 500.
TEST(ReplyErrors, TransientServerStatesAreUnavailableOthersAreServerErrors) {
  auto error = [](std::string text) {
    Reply r;
    r.type = Reply::Type::kError;
    r.str = std::move(text);
    return to_integer(Result<Reply>(r));
  };
  for (const char* text :
       {"LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script.",
        "MASTERDOWN Link with MASTER is down",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down",
        "READONLY You can't write against a read only replica."}) {
    auto r = error(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), Errc::kUnavailable) << text;
  }
  for (const char* text :
       {"ERR unknown command", "WRONGTYPE Operation against a key",
        "BUSYGROUP Consumer Group name already exists", "NOSCRIPT No matching"}) {
    auto r = error(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), Errc::kServerError) << text;
  }
}

}  // namespace
}  // namespace surge::redis
