// Redis-backed Bloom filter.
#include "cache/bloom.h"

#include <cmath>

#include <fmt/format.h>

#include "redis/commands.h"
#include "redis/pipeline.h"

namespace surge::cache {

BloomFilter::BloomFilter(std::string name, uint64_t capacity, double false_positive_rate)
    : shape_(core::bloom_shape(capacity, false_positive_rate)) {
  key_ = fmt::format("bloom:{}:m{}:k{}", name, shape_.bits, shape_.hashes);
}

asio::awaitable<Result<void>> BloomFilter::build(redis::Connection& c,
                                                 std::vector<std::string> items) {
  // Redis numbers bits from the most significant bit of byte 0.
  std::string bitmap((shape_.bits + 7) / 8, '\0');
  for (const auto& item : items) {
    for (uint64_t p : core::bloom_positions(shape_, item)) {
      bitmap[p / 8] =
          static_cast<char>(static_cast<unsigned char>(bitmap[p / 8]) | (0x80u >> (p % 8)));
    }
  }
  std::string staging = key_ + ":staging:" + fmt::format("{}", reinterpret_cast<uintptr_t>(this));
  redis::Command cmd;
  cmd.add("SET", staging, bitmap, "PX", 60000);
  cmd.add("BITOP", "OR", key_, key_, staging);
  cmd.add("DEL", staging);
  auto done = co_await redis::exec_as<redis::Done, int64_t, int64_t>(c, std::move(cmd));
  if (!done) co_return done.error();
  ready_.store(true, std::memory_order_release);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> BloomFilter::add(redis::Connection& c, std::string item) {
  auto positions = core::bloom_positions(shape_, item);
  redis::Command cmd;
  cmd.begin(2 + 4 * positions.size()).arg("BITFIELD").arg(key_);
  for (uint64_t p : positions) cmd.arg("SET").arg("u1").arg(static_cast<int64_t>(p)).arg("1");
  co_return redis::expect_ok(co_await c.exec(std::move(cmd)));
}

asio::awaitable<Result<bool>> BloomFilter::might_contain(redis::Connection& c,
                                                         std::string item) const {
  auto positions = core::bloom_positions(shape_, item);
  redis::Command cmd;
  cmd.begin(2 + 3 * positions.size()).arg("BITFIELD_RO").arg(key_);
  for (uint64_t p : positions) cmd.arg("GET").arg("u1").arg(static_cast<int64_t>(p));
  auto r = co_await c.exec(std::move(cmd));
  if (!r) co_return Result<bool>(boost::system::in_place_error, r.error());
  if (!r->is_array() || r->elements.size() != positions.size()) {
    co_return Result<bool>(boost::system::in_place_error, make_error_code(Errc::kProtocol));
  }
  for (const auto& bit : r->elements) {
    if (bit.integer == 0) co_return false;
  }
  co_return true;
}

asio::awaitable<Result<BloomFilter::Stats>> BloomFilter::stats(redis::Connection& c) const {
  auto cmd = redis::Command::make("BITCOUNT", key_);
  auto n = redis::to_integer(co_await c.exec(std::move(cmd)));
  if (!n) co_return n.error();
  Stats s;
  s.bits_set = static_cast<uint64_t>(*n);
  s.fill_ratio = static_cast<double>(s.bits_set) / static_cast<double>(shape_.bits);
  s.estimated_fpr = std::pow(s.fill_ratio, shape_.hashes);
  co_return s;
}

}  // namespace surge::cache
