// getrandom, looped until every byte is filled.
#include "common/random.h"

#include <sys/random.h>

#include <fmt/format.h>

namespace surge {

void random_bytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
}

std::string random_token() {
  unsigned char bytes[16];
  random_bytes(bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", b);
  return out;
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

}  // namespace surge
