// Address parsing with inet_pton: no resolver, no allocation beyond the text kept for logs.
#include "core/net.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace surge::core {

namespace {

// The address as 4 (v4 true) or 16 bytes; IPv4-mapped IPv6 comes back as IPv4.
bool parse_address(std::string_view text, bool& v4, std::array<uint8_t, 16>& out) {
  if (text.empty() || text.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out.fill(0);
  if (::inet_pton(AF_INET, buf, out.data()) == 1) {
    v4 = true;
    return true;
  }
  std::array<uint8_t, 16> v6{};
  if (::inet_pton(AF_INET6, buf, v6.data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(v6.data(), kMapped, 12) == 0) {
    v4 = true;
    std::memcpy(out.data(), v6.data() + 12, 4);
    return true;
  }
  v4 = false;
  out = v6;
  return true;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  c.text_ = std::string(text);
  std::string_view addr = text;
  std::optional<int> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty()) return std::nullopt;
    prefix = value;
  }
  if (!parse_address(addr, c.v4_, c.bytes_)) return std::nullopt;
  int max = c.v4_ ? 32 : 128;
  c.prefix_ = prefix.value_or(max);
  if (c.prefix_ < 0 || c.prefix_ > max) return std::nullopt;
  return c;
}

bool Cidr::contains(std::string_view address) const {
  bool v4 = true;
  std::array<uint8_t, 16> a{};
  if (!parse_address(address, v4, a) || v4 != v4_) return false;
  int full = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(a.data(), bytes_.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (bytes_[full] & mask);
}

bool in_any(const std::vector<Cidr>& ranges, std::string_view address) {
  for (const auto& r : ranges) {
    if (r.contains(address)) return true;
  }
  return false;
}

}  // namespace surge::core
