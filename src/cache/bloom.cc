// Redis-backed Bloom filter.
#include "cache/bloom.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "redis/commands.h"
#include "redis/pipeline.h"

namespace surge::cache {

BloomFilter::BloomFilter(std::string name, uint64_t capacity, double false_positive_rate)
    : shape_(core::bloom_shape(capacity, false_positive_rate)) {
  key_ = fmt::format("bloom:{}:m{}:k{}", name, shape_.bits, shape_.hashes);
  channel_ = key_ + ":added";
  here_bytes_ = (shape_.bits + 7) / 8;
  here_ = std::make_unique<std::atomic<uint8_t>[]>(here_bytes_);
}

void BloomFilter::set_here(const std::string& item) {
  for (uint64_t p : core::bloom_positions(shape_, item)) {
    here_[p / 8].fetch_or(static_cast<uint8_t>(0x80u >> (p % 8)), std::memory_order_relaxed);
  }
}

void BloomFilter::or_here(std::string_view redis_bitmap) {
  size_t n = std::min(redis_bitmap.size(), here_bytes_);
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<uint8_t>(redis_bitmap[i]);
    if (b != 0) here_[i].fetch_or(b, std::memory_order_relaxed);
  }
}

std::optional<bool> BloomFilter::might_contain_here(const std::string& item) const {
  // Both: the copy holds what Redis held when it synced, and this process's build added every
  // id the database had.
  if (!ready() || !local_ready()) return std::nullopt;
  for (uint64_t p : core::bloom_positions(shape_, item)) {
    if ((here_[p / 8].load(std::memory_order_relaxed) & (0x80u >> (p % 8))) == 0) return false;
  }
  return true;
}

void BloomFilter::on_message(const std::string& channel, const std::string& item) {
  if (channel == channel_) set_here(item);
}

void BloomFilter::on_feed_state(bool up) {
  // Whatever sync is under way began in the previous state: it can no longer make the copy
  // ready.
  feed_epoch_.fetch_add(1, std::memory_order_acq_rel);
  feed_up_.store(up, std::memory_order_release);
  if (!up) local_ready_.store(false, std::memory_order_release);
}

asio::awaitable<Result<void>> BloomFilter::sync(redis::Client& c) {
  uint64_t epoch = feed_epoch_.load(std::memory_order_acquire);
  bool up = feed_up_.load(std::memory_order_acquire);
  auto bitmap = co_await redis::get(c, key_);
  if (!bitmap) co_return bitmap.error();
  if (*bitmap) or_here(**bitmap);
  if (up && feed_epoch_.load(std::memory_order_acquire) == epoch) {
    local_ready_.store(true, std::memory_order_release);
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> BloomFilter::build(redis::Client& c, std::vector<std::string> items) {
  // Redis numbers bits from the most significant bit of byte 0.
  std::string bitmap((shape_.bits + 7) / 8, '\0');
  for (const auto& item : items) {
    for (uint64_t p : core::bloom_positions(shape_, item)) {
      bitmap[p / 8] =
          static_cast<char>(static_cast<unsigned char>(bitmap[p / 8]) | (0x80u >> (p % 8)));
    }
  }
  // The staging key's hash tag is the whole filter key, so both share a slot on a cluster.
  std::string staging =
      "{" + key_ + "}:staging:" + fmt::format("{}", reinterpret_cast<uintptr_t>(this));
  auto requests = redis::batch(redis::Request::keyed(1, "SET", staging, bitmap, "PX", 60000),
                               redis::Request::keyed(2, "BITOP", "OR", key_, key_, staging),
                               redis::Request::keyed(1, "DEL", staging));
  auto done = co_await redis::exec_as<redis::Done, int64_t, int64_t>(c, std::move(requests));
  if (!done) co_return done.error();
  or_here(bitmap);
  ready_.store(true, std::memory_order_release);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> BloomFilter::add(redis::Client& c, std::string item) {
  auto positions = core::bloom_positions(shape_, item);
  auto bits = redis::Request::keyed(1, "BITFIELD", key_);
  for (uint64_t p : positions) bits.add("SET", "u1", p, "1");
  // In the same round trip (on one node, after the bits); an instance that hears of the item
  // sets its bits from the message itself.
  auto requests = redis::batch(
      std::move(bits), redis::Request::keyed(redis::Request::kNoKey, "PUBLISH", channel_, item));
  auto done = co_await redis::exec_as<redis::Done, int64_t>(c, std::move(requests));
  if (!done) co_return done.error();
  set_here(item);
  co_return Result<void>{};
}

asio::awaitable<Result<bool>> BloomFilter::might_contain(redis::Client& c, std::string item) const {
  if (auto here = might_contain_here(item)) co_return *here;
  auto positions = core::bloom_positions(shape_, item);
  auto bits = redis::Request::keyed(1, "BITFIELD_RO", key_);
  for (uint64_t p : positions) bits.add("GET", "u1", p);
  auto r = co_await c.exec(std::move(bits));
  if (!r) co_return Result<bool>(boost::system::in_place_error, r.error());
  if (!r->is_array() || r->elements.size() != positions.size()) {
    co_return Result<bool>(boost::system::in_place_error, make_error_code(Errc::kProtocol));
  }
  for (const auto& bit : r->elements) {
    if (bit.integer == 0) co_return false;
  }
  co_return true;
}

asio::awaitable<Result<BloomFilter::Stats>> BloomFilter::stats(redis::Client& c) const {
  auto n = redis::to_integer(co_await c.exec(redis::Request::keyed(1, "BITCOUNT", key_)));
  if (!n) co_return n.error();
  Stats s;
  s.bits_set = static_cast<uint64_t>(*n);
  s.fill_ratio = static_cast<double>(s.bits_set) / static_cast<double>(shape_.bits);
  s.estimated_fpr = std::pow(s.fill_ratio, shape_.hashes);
  co_return s;
}

}  // namespace surge::cache
