// Micro-benchmarks of the Redis codec: Command encoding and Decoder decoding of a 500-byte bulk
// string, an integer, and an array of 100 bulk strings.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "redis/command.h"
#include "redis/reply.h"

namespace {

using surge::redis::Command;
using surge::redis::Decoder;

const std::string kValue500(500, 'v');

// 100 keys shaped like the service's cache keys.
std::vector<std::string> hundred_keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("cache:shop:" + std::to_string(100000 + i));
  return keys;
}

void BM_EncodeBulk500(benchmark::State& state) {
  const std::string key = "cache:shop:123456";
  size_t bytes = 0;
  for (auto _ : state) {
    Command c = Command::make("SET", key, kValue500);
    bytes += c.wire().size();
    benchmark::DoNotOptimize(c.wire().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_EncodeBulk500);

void BM_EncodeInteger(benchmark::State& state) {
  int64_t n = 1234567890;
  for (auto _ : state) {
    Command c = Command::make("INCRBY", "counter", n++);
    benchmark::DoNotOptimize(c.wire().data());
  }
}
BENCHMARK(BM_EncodeInteger);

void BM_EncodeArray100(benchmark::State& state) {
  const auto keys = hundred_keys();
  size_t bytes = 0;
  for (auto _ : state) {
    // A runtime-length MGET, the way variadic commands are built.
    Command c;
    c.begin(keys.size() + 1).arg("MGET");
    for (const auto& k : keys) c.arg(k);
    bytes += c.wire().size();
    benchmark::DoNotOptimize(c.wire().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 100);
}
BENCHMARK(BM_EncodeArray100);

// Feeds `wire` (holding `replies` complete replies) and drains them, once per iteration, on one
// long-lived decoder, as the connection's read loop does.
void decode_loop(benchmark::State& state, const std::string& wire, size_t replies) {
  Decoder d;
  for (auto _ : state) {
    if (!d.feed(wire.data(), wire.size())) {
      state.SkipWithError("feed failed");
      return;
    }
    size_t got = 0;
    for (;;) {
      auto r = d.next();
      if (!r || !*r) break;
      benchmark::DoNotOptimize(&**r);
      ++got;
    }
    if (got != replies) {
      state.SkipWithError("wrong number of replies");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * replies));
}

void BM_DecodeBulk500(benchmark::State& state) {
  decode_loop(state, "$500\r\n" + kValue500 + "\r\n", 1);
}
BENCHMARK(BM_DecodeBulk500);

void BM_DecodeInteger(benchmark::State& state) { decode_loop(state, ":1234567890\r\n", 1); }
BENCHMARK(BM_DecodeInteger);

void BM_DecodeArray100(benchmark::State& state) {
  std::string wire = "*100\r\n";
  for (const auto& k : hundred_keys()) {
    wire.append("$").append(std::to_string(k.size())).append("\r\n").append(k).append("\r\n");
  }
  decode_loop(state, wire, 1);
}
BENCHMARK(BM_DecodeArray100);

// 100 integer replies arriving in one read, as under heavy pipelining.
void BM_DecodeIntegerBatch100(benchmark::State& state) {
  std::string wire;
  for (int i = 0; i < 100; ++i) wire.append(":").append(std::to_string(i * 7919)).append("\r\n");
  decode_loop(state, wire, 100);
}
BENCHMARK(BM_DecodeIntegerBatch100);

}  // namespace
