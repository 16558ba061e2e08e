// The logged-in user of a request, as the session store keeps it (the original's UserDTO).
#pragma once

#include <cstdint>
#include <string>

namespace surge::core {

struct LoggedInUser {
  int64_t id = 0;
  std::string nick_name;
  std::string icon;
};

}  // namespace surge::core
