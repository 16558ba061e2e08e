// getrandom, looped until every byte is filled.
#include "common/random.h"

#include <sys/random.h>

namespace surge {

void random_bytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
}

}  // namespace surge
