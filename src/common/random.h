// Unpredictable bytes from the OS CSPRNG (getrandom), for tokens, codes and names.
#pragma once

#include <cstddef>

namespace surge {

// Fills `out` completely; retries short reads and interruptions.
void random_bytes(unsigned char* out, size_t n);

}  // namespace surge
