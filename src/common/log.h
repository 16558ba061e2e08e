// Process-wide logging set-up (spdlog). Everything else just calls spdlog::info(...) and friends.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace surge {

// Configures the default logger: coloured stderr, level from a name ("trace".."off").
// Returns false (and keeps "info") if the name is unknown.
bool init_logging(std::string_view level);

}  // namespace surge
