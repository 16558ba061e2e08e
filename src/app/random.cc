// getrandom-backed helpers.
#include "app/random.h"

#include <sys/random.h>

#include <string_view>

namespace surge::app {

void random_bytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
}

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
