// Fuzzes the RESP decoder: arbitrary bytes fed in arbitrary pieces must yield replies or a
// protocol error, never a crash, a hang or a leak; the same bytes fed whole must decode the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "redis/reply.h"

namespace {

// Debug strings of every reply, then "ERR" if the stream turned out corrupt.
std::vector<std::string> decode(const uint8_t* data, size_t size, size_t piece) {
  surge::redis::Decoder d;
  std::vector<std::string> out;
  for (size_t at = 0; at < size; at += piece) {
    size_t n = std::min(piece, size - at);
    if (!d.feed(reinterpret_cast<const char*>(data) + at, n)) {
      out.push_back("ERR");
      return out;
    }
    for (int i = 0; i < 10000; ++i) {
      auto r = d.next();
      if (!r) {
        out.push_back("ERR");
        return out;
      }
      if (!*r) break;
      out.push_back(surge::redis::to_debug_string(**r));
      (void)(*r)->as_integer();
      (void)(*r)->as_string();
    }
  }
  return out;
}

}  // namespace

// Most inputs are protocol errors, which the decoder logs: silence that, or logging is the run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 7;
  auto whole = decode(data + 1, size - 1, size);
  auto pieces = decode(data + 1, size - 1, piece);
  // A corrupt stream may be noticed at a different reply, but what was decoded must agree.
  size_t common = std::min(whole.size(), pieces.size());
  for (size_t i = 0; i < common; ++i) {
    if (whole[i] != pieces[i] && whole[i] != "ERR" && pieces[i] != "ERR") std::abort();
  }
  return 0;
}
