// Unpredictable bytes from the OS CSPRNG (getrandom), for tokens, codes and names.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace surge {

// Fills `out` completely; retries short reads and interruptions.
void random_bytes(unsigned char* out, size_t n);

// 32 hex characters (128 bits): session tokens, lock owner tokens.
std::string random_token();

// `n` characters drawn uniformly from `alphabet` (at most 256 characters): login codes, default
// nicknames, upload names.
std::string random_string(size_t n, std::string_view alphabet);

}  // namespace surge
