// Pure arithmetic behind the cache strategies: TTL jitter against avalanches, XFetch early
// refresh against stampedes, and Bloom filter sizing and probing against penetration.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace surge::core {

using Millis = std::chrono::milliseconds;

// `ttl` scaled by a factor uniform in [1 - fraction, 1 + fraction]; `unit` is a uniform draw in
// [0, 1) supplied by the caller (tests pass fixed values). Never below 1 ms.
Millis jittered_ttl(Millis ttl, double fraction, double unit);

// XFetch (Vattani et al., "Optimal probabilistic cache stampede prevention"): refresh early when
// now - delta * beta * ln(unit) >= expiry, where delta is the measured rebuild time. The chance
// rises as expiry nears and with slower rebuilds; beta > 1 favours earlier refreshes.
bool xfetch_should_refresh(int64_t now_ms, int64_t expiry_ms, int64_t delta_ms, double beta,
                           double unit);

struct BloomShape {
  uint64_t bits;    // m
  uint32_t hashes;  // k
};
// Optimal m = -n ln p / (ln 2)^2 and k = (m / n) ln 2 for n items at false-positive rate p.
BloomShape bloom_shape(uint64_t expected_items, double false_positive_rate);
// Expected false-positive rate with `items` inserted: (1 - e^(-k n / m))^k.
double bloom_false_positive_rate(const BloomShape& shape, uint64_t items);
// The k bit positions of `item` (Kirsch–Mitzenmacher double hashing over two 64-bit hashes).
std::vector<uint64_t> bloom_positions(const BloomShape& shape, std::string_view item);

// 64-bit FNV-1a, then a murmur-style finaliser so nearby inputs land far apart.
uint64_t hash64(std::string_view data, uint64_t seed);

}  // namespace surge::core
