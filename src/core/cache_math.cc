// Cache arithmetic.
#include "core/cache_math.h"

#include <algorithm>
#include <cmath>

namespace surge::core {

Millis jittered_ttl(Millis ttl, double fraction, double unit) {
  double factor = 1.0 + fraction * (2.0 * unit - 1.0);
  auto ms = static_cast<int64_t>(std::llround(static_cast<double>(ttl.count()) * factor));
  return Millis(std::max<int64_t>(ms, 1));
}

bool xfetch_should_refresh(int64_t now_ms, int64_t expiry_ms, int64_t delta_ms, double beta,
                           double unit) {
  if (now_ms >= expiry_ms) return true;
  // ln(unit) is <= 0, so the term moves "now" forward; unit == 0 would mean infinitely early.
  double u = std::max(unit, 1e-12);
  double early = -static_cast<double>(delta_ms) * beta * std::log(u);
  return static_cast<double>(now_ms) + early >= static_cast<double>(expiry_ms);
}

BloomShape bloom_shape(uint64_t expected_items, double false_positive_rate) {
  double n = static_cast<double>(std::max<uint64_t>(expected_items, 1));
  double p = std::clamp(false_positive_rate, 1e-9, 0.5);
  double ln2 = std::log(2.0);
  double m = std::ceil(-n * std::log(p) / (ln2 * ln2));
  double k = std::round(m / n * ln2);
  return {static_cast<uint64_t>(std::max(m, 8.0)), static_cast<uint32_t>(std::max(k, 1.0))};
}

double bloom_false_positive_rate(const BloomShape& shape, uint64_t items) {
  double k = shape.hashes;
  double fill = 1.0 - std::exp(-k * static_cast<double>(items) / static_cast<double>(shape.bits));
  return std::pow(fill, k);
}

uint64_t hash64(std::string_view data, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::vector<uint64_t> bloom_positions(const BloomShape& shape, std::string_view item) {
  uint64_t h1 = hash64(item, 1);
  uint64_t h2 = hash64(item, 2) | 1;  // odd, so the k probes never collapse onto one bit
  std::vector<uint64_t> out(shape.hashes);
  for (uint32_t i = 0; i < shape.hashes; ++i) out[i] = (h1 + i * h2) % shape.bits;
  return out;
}

}  // namespace surge::core
