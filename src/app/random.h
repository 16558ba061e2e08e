// Unpredictable values from the OS CSPRNG (getrandom): login codes, default nicknames, upload
// names. Session tokens use cache::random_token, which reads the same source.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace surge::app {

void random_bytes(unsigned char* out, size_t n);
// `n` characters drawn uniformly from `alphabet` (at most 256 characters).
std::string random_string(size_t n, std::string_view alphabet);

}  // namespace surge::app
