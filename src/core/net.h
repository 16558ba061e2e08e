// Address ranges, for deciding whose forwarding headers (X-Real-IP, X-Forwarded-For) to believe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace surge::core {

// One IPv4 or IPv6 range ("10.0.0.0/8", "::1/128", or a bare address for a single host). An
// IPv4-mapped IPv6 address ("::ffff:10.1.2.3") is matched as the IPv4 address it carries.
class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(std::string_view address) const;
  std::string to_string() const { return text_; }

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
  int prefix_ = 0;
  std::string text_;
};

// True when `address` is inside any of `ranges`.
bool in_any(const std::vector<Cidr>& ranges, std::string_view address);

}  // namespace surge::core
