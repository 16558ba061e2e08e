// The id generator against real Redis: layout, uniqueness across two independent generators
// (separate threads and connections, like two instances), blocks, and the day boundary.
#include <thread>
#include <unordered_set>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "redis/commands.h"
#include "sale/id_generator.h"
#include "support/stores.h"

namespace surge::sale {
namespace {

using namespace std::chrono_literals;

std::string unique_prefix(const char* base) {
  return std::string(base) + std::to_string(::getpid()) +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// One "instance": its own io_context, connection and generator; makes `n` ids as fast as it can.
std::vector<int64_t> make_ids(IdOptions options, size_t n, IdGenerator::Clock clock = {}) {
  asio::io_context ctx;
  auto conn = redis::NodeClient::create(ctx.get_executor(), test::stores().redis);
  conn->start();
  std::vector<int64_t> out;
  out.reserve(n);
  auto body = [&]() -> asio::awaitable<void> {
    co_await conn->wait_ready(3s);
    redis::NodeClient node(*conn);
    IdGenerator gen(node, options, clock);
    for (size_t i = 0; i < n; ++i) {
      auto id = co_await gen.next();
      if (!id) co_return;
      out.push_back(*id);
    }
  };
  auto done = asio::co_spawn(ctx, body(), asio::use_future);
  while (done.wait_for(0s) != std::future_status::ready) ctx.run_one();
  conn->stop();
  ctx.run_for(50ms);
  return out;
}

TEST(IdGenerator, LayoutIsSecondsSinceEpochAndADailySequence) {
  IdOptions o;
  o.prefix = unique_prefix("ids");
  int64_t before = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto ids = make_ids(o, 100);
  ASSERT_EQ(ids.size(), 100u);
  // Decoded with the literal layout (not the generator's own helpers, which would change along
  // with a wrong encoding): the high 32 bits are seconds since 2022-01-01T00:00:00Z, the low 32
  // the day's sequence.
  constexpr int64_t kEpoch = 1640995200;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_GT(ids[i], 0);  // the sign bit stays clear
    EXPECT_GE(ids[i] >> 32, before - kEpoch);
    EXPECT_LE(ids[i] >> 32, before - kEpoch + 5);
    EXPECT_EQ(ids[i] & 0xFFFFFFFF, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(IdGenerator::seconds_of(ids[i]), ids[i] >> 32);
    EXPECT_EQ(IdGenerator::sequence_of(ids[i]), ids[i] & 0xFFFFFFFF);
    if (i > 0) {
      EXPECT_GT(ids[i], ids[i - 1]);
    }
  }
}

// With an injected clock and a non-default epoch, every id is exactly what the literal layout
// (0 | 31 bits of seconds since the epoch | 32 bits of the day's sequence) says, decoded by hand,
// and the day's counter in Redis went up by whole blocks.
TEST(IdGenerator, LiteralLayoutUnderAnInjectedClockAndEpoch) {
  IdOptions o;
  o.prefix = unique_prefix("ids");
  o.epoch_seconds = 1700000000;  // 2023-11-14T22:13:20Z
  o.block = 7;
  const int64_t now = 1767237945;  // 2026-01-01T03:25:45Z
  auto ids = make_ids(o, 20, [&] { return now; });
  ASSERT_EQ(ids.size(), 20u);
  // 1767237945 - 1700000000 = 67237945 = 0x0401_F839 seconds, so the first id is
  // 0x0401F839_00000001.
  EXPECT_EQ(ids[0], int64_t{0x0401F83900000001});
  EXPECT_EQ(ids[0], int64_t{288784774825246721});
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(static_cast<uint64_t>(ids[i]) >> 63, 0u) << i;  // the sign bit stays clear
    EXPECT_EQ((ids[i] >> 32) & 0x7FFFFFFF, 67237945) << i;
    EXPECT_EQ(ids[i] & 0xFFFFFFFF, static_cast<int64_t>(i) + 1) << i;
  }
  // 20 ids in blocks of 7: three INCRBY 7 on the day's counter.
  asio::io_context ctx;
  auto conn = redis::NodeClient::create(ctx.get_executor(), test::stores().redis);
  conn->start();
  auto read = [&]() -> asio::awaitable<Result<std::optional<std::string>>> {
    co_await conn->wait_ready(3s);
    co_return co_await redis::get(*conn, "icr:" + o.prefix + ":2026:01:01");
  };
  auto done = asio::co_spawn(ctx, read(), asio::use_future);
  while (done.wait_for(0s) != std::future_status::ready) ctx.run_one();
  auto counter = done.get();
  conn->stop();
  ctx.run_for(50ms);
  ASSERT_TRUE(counter);
  EXPECT_EQ(counter->value_or(""), "21");
}

TEST(IdGenerator, TwoInstancesTimesAMillionIdsAreAllUnique) {
  IdOptions o;
  o.prefix = unique_prefix("ids");
  o.block = 1000;
  std::vector<int64_t> a, b;
  std::thread ta([&] { a = make_ids(o, 1000000); });
  std::thread tb([&] { b = make_ids(o, 1000000); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.size(), 1000000u);
  ASSERT_EQ(b.size(), 1000000u);
  std::unordered_set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2000000u);
}

TEST(IdGenerator, UnblockedIdsFromTwoInstancesAreUniqueToo) {
  IdOptions o;
  o.prefix = unique_prefix("ids");
  std::vector<int64_t> a, b;
  std::thread ta([&] { a = make_ids(o, 20000); });
  std::thread tb([&] { b = make_ids(o, 20000); });
  ta.join();
  tb.join();
  std::unordered_set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 40000u);
}

TEST(IdGenerator, ABlockNeverCrossesMidnight) {
  IdOptions o;
  o.prefix = unique_prefix("ids");
  o.block = 100;
  // 2 ids at 23:59:59 UTC, then the clock passes midnight: the rest of the block is dropped and
  // the new day's counter starts at 1.
  int64_t midnight = 1767225600;  // 2026-01-01T00:00:00Z
  int calls = 0;
  auto clock = [&] { return ++calls <= 2 ? midnight - 1 : midnight; };
  auto ids = make_ids(o, 4, clock);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(IdGenerator::sequence_of(ids[0]), 1);
  EXPECT_EQ(IdGenerator::sequence_of(ids[1]), 2);
  EXPECT_EQ(IdGenerator::sequence_of(ids[2]), 1);  // a fresh block from the new day's counter
  EXPECT_EQ(IdGenerator::seconds_of(ids[2]), midnight - o.epoch_seconds);
  asio::io_context ctx;
  auto conn = redis::NodeClient::create(ctx.get_executor(), test::stores().redis);
  redis::NodeClient node(*conn);
  IdGenerator names(node, o);
  EXPECT_EQ(names.counter_key(midnight - 1), "icr:" + o.prefix + ":2025:12:31");
  EXPECT_EQ(names.counter_key(midnight), "icr:" + o.prefix + ":2026:01:01");
}

}  // namespace
}  // namespace surge::sale
