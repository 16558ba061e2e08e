// Key slots, endpoints, MOVED/ASK parsing and the CLUSTER SLOTS slot map. Expected slots are the
// ones `CLUSTER KEYSLOT` answers on Redis 7.
#include "redis/slot.h"

#include <gtest/gtest.h>

#include "redis/cluster.h"

namespace surge::redis {
namespace {

TEST(Crc16, MatchesTheReferenceCheckValue) {
  // The XModem check value, which the Redis Cluster specification quotes.
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

TEST(KeySlot, PlainKeysHashWhole) {
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlot, HashTagsPickTheFirstNonEmptyBraces) {
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.followers"), 3443);
  EXPECT_EQ(key_slot("user1000"), 3443);
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
  // "{}" is no tag: the whole key counts.
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(key_slot("a{}"), 6082);
  // The tag runs from the first '{' to the first '}' after it.
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  // An unclosed brace is no tag either.
  EXPECT_EQ(key_slot("{bar"), crc16("{bar") % kSlotCount);
}

TEST(KeySlot, EverySlotIsBelowTheSlotCount) {
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(key_slot("k" + std::to_string(i)), kSlotCount);
  }
}

TEST(Endpoint, ParsesHostPortAndBracketedV6) {
  auto e = parse_endpoint("127.0.0.1:7001");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 7001);
  EXPECT_EQ(e->to_string(), "127.0.0.1:7001");
  auto v6 = parse_endpoint("[::1]:6379");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->to_string(), "[::1]:6379");
  EXPECT_FALSE(parse_endpoint("localhost"));
  EXPECT_FALSE(parse_endpoint("localhost:0"));
  EXPECT_FALSE(parse_endpoint("localhost:70000"));
  EXPECT_FALSE(parse_endpoint("localhost:12ab"));
}

TEST(Seeds, ParsesTheEnvironmentList) {
  auto s = parse_seeds("127.0.0.1:7001,127.0.0.1:7002,,localhost:7003");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[2].host, "localhost");
  EXPECT_EQ((*s)[2].port, 7003);
  EXPECT_FALSE(parse_seeds(""));
  EXPECT_FALSE(parse_seeds("127.0.0.1"));
  EXPECT_FALSE(parse_seeds(":7001"));
}

TEST(Redirect, ParsesMovedAndAsk) {
  auto m = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.9");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ask);
  EXPECT_EQ(m->slot, 3999);
  EXPECT_EQ(m->to, (Endpoint{"127.0.0.1", 6381}));
  auto a = parse_redirect("ASK 12182 127.0.0.2:7000", "x");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ask);
  EXPECT_EQ(a->slot, 12182);
  // No host: the node that answered.
  auto same = parse_redirect("MOVED 1 :7005", "127.0.0.7");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->to, (Endpoint{"127.0.0.7", 7005}));
  EXPECT_FALSE(parse_redirect("ERR wrong number of arguments", "h"));
  EXPECT_FALSE(parse_redirect("MOVED 16384 127.0.0.1:6381", "h"));
  EXPECT_FALSE(parse_redirect("MOVED 12 127.0.0.1", "h"));
  EXPECT_FALSE(parse_redirect("MOVED", "h"));
}

Reply integer(int64_t v) {
  Reply r;
  r.type = Reply::Type::kInteger;
  r.integer = v;
  return r;
}
Reply bulk(std::string s) {
  Reply r;
  r.type = Reply::Type::kString;
  r.str = std::move(s);
  return r;
}
Reply array(std::vector<Reply> e) {
  Reply r;
  r.type = Reply::Type::kArray;
  r.elements = std::move(e);
  return r;
}
Reply node(std::string host, int64_t port, std::string id) {
  return array({bulk(std::move(host)), integer(port), bulk(std::move(id)), array({})});
}

TEST(SlotMap, BuildsFromClusterSlots) {
  // Three masters with a replica each, as Redis 7 answers CLUSTER SLOTS; the third master does
  // not know its own address (empty host) and is the node that was asked.
  Reply slots = array({
      array(
          {integer(0), integer(5460), node("127.0.0.1", 7001, "a"), node("127.0.0.1", 7004, "d")}),
      array({integer(5461), integer(10922), node("127.0.0.1", 7002, "b")}),
      array({integer(10923), integer(16000), node("", 7003, "c"), node("127.0.0.1", 7006, "f")}),
      array({integer(16001), integer(16383), node("127.0.0.1", 7001, "a")}),
  });
  auto map = SlotMap::from_cluster_slots(slots, "127.0.0.3");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered_slots(), kSlotCount);
  ASSERT_EQ(map->masters().size(), 3u);  // 7001 serves two ranges but is one master
  EXPECT_EQ(*map->owner(0), (Endpoint{"127.0.0.1", 7001}));
  EXPECT_EQ(*map->owner(5460), (Endpoint{"127.0.0.1", 7001}));
  EXPECT_EQ(*map->owner(5461), (Endpoint{"127.0.0.1", 7002}));
  EXPECT_EQ(*map->owner(key_slot("foo")), (Endpoint{"127.0.0.3", 7003}));
  EXPECT_EQ(*map->owner(16383), (Endpoint{"127.0.0.1", 7001}));

  map->assign(12182, Endpoint{"127.0.0.1", 7009});
  EXPECT_EQ(*map->owner(12182), (Endpoint{"127.0.0.1", 7009}));
  EXPECT_EQ(*map->owner(12183), (Endpoint{"127.0.0.3", 7003}));
  EXPECT_EQ(map->masters().size(), 4u);
}

TEST(SlotMap, LeavesUncoveredSlotsWithoutOwner) {
  Reply slots = array({array({integer(100), integer(199), node("h", 1, "a")})});
  auto map = SlotMap::from_cluster_slots(slots, "h");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered_slots(), 100u);
  EXPECT_EQ(map->owner(99), nullptr);
  EXPECT_NE(map->owner(100), nullptr);
  EXPECT_EQ(map->owner(200), nullptr);
}

TEST(SlotMap, RejectsMalformedReplies) {
  EXPECT_FALSE(SlotMap::from_cluster_slots(bulk("nope"), "h"));
  EXPECT_FALSE(SlotMap::from_cluster_slots(array({array({integer(0), integer(1)})}), "h"));
  EXPECT_FALSE(SlotMap::from_cluster_slots(
      array({array({integer(5), integer(4), node("h", 1, "a")})}), "h"));
  EXPECT_FALSE(SlotMap::from_cluster_slots(
      array({array({integer(0), integer(16384), node("h", 1, "a")})}), "h"));
  EXPECT_FALSE(SlotMap::from_cluster_slots(
      array({array({integer(0), integer(1), node("h", 0, "a")})}), "h"));
  EXPECT_FALSE(
      SlotMap::from_cluster_slots(array({array({integer(0), integer(1), bulk("h")})}), "h"));
  // An empty reply is a valid map of nothing (a node not yet in a cluster).
  auto none = SlotMap::from_cluster_slots(array({}), "h");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Request, KeyedBuildsTheWireCommand) {
  auto r = Request::keyed(1, "SET", "k", 42);
  EXPECT_EQ(r.args, (std::vector<std::string>{"SET", "k", "42"}));
  EXPECT_EQ(r.command().wire(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n");
  Script s("return 1");
  auto e = Request::script_call(s, {"{a}x", "{a}y"}, {"v"});
  EXPECT_EQ(e.key_index, 3u);
  EXPECT_EQ(e.args[3], "{a}x");
  EXPECT_EQ(e.args.size(), 6u);
}

}  // namespace
}  // namespace surge::redis
