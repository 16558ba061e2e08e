// Random strings from the OS CSPRNG (common/random): login codes, default nicknames, upload
// names. Session tokens use cache::random_token, which reads the same source.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace surge::app {

// `n` characters drawn uniformly from `alphabet` (at most 256 characters).
std::string random_string(size_t n, std::string_view alphabet);

}  // namespace surge::app
