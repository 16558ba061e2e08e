// Random strings over common/random.
#include "app/random.h"

#include <string_view>

#include "common/random.h"

namespace surge::app {

std::string random_string(size_t n, std::string_view alphabet) {
  // Rejection sampling: bytes past the largest multiple of the alphabet size would bias it.
  size_t limit = 256 - 256 % alphabet.size();
  std::string out;
  unsigned char buf[64];
  while (out.size() < n) {
    random_bytes(buf, sizeof buf);
    for (unsigned char b : buf) {
      if (b < limit && out.size() < n) out += alphabet[b % alphabet.size()];
    }
  }
  return out;
}

}  // namespace surge::app
