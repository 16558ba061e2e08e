// CRC16 key slots, endpoints, redirections and the CLUSTER SLOTS parser.
#include "redis/slot.h"

#include <algorithm>
#include <charconv>

namespace surge::redis {

namespace {

// The byte-wise table for polynomial 0x1021, computed at compile time rather than pasted.
constexpr std::array<uint16_t, 256> make_crc_table() {
  std::array<uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    t[i] = crc;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

std::optional<uint16_t> parse_u16(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > 0xffff) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

uint16_t key_slot(std::string_view key) {
  auto open = key.find('{');
  if (open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  // kSlotCount is a power of two: the mask is the modulo Redis applies.
  return crc16(key) & (kSlotCount - 1);
}

std::string Endpoint::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = parse_u16(text.substr(colon + 1));
  if (!port || *port == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return Endpoint{std::string(host), *port};
}

std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto slot = parse_u16(error.substr(0, space));
  if (!slot || *slot >= kSlotCount) return std::nullopt;
  auto to = parse_endpoint(error.substr(space + 1));
  if (!to) return std::nullopt;
  if (to->host.empty()) to->host = std::string(from_host);
  r.slot = *slot;
  r.to = std::move(*to);
  return r;
}

Result<SlotMap> SlotMap::from_cluster_slots(const Reply& reply, std::string_view from_host) {
  if (!reply.is_array()) return Errc::kProtocol;
  SlotMap map;
  for (const Reply& range : reply.elements) {
    if (!range.is_array() || range.elements.size() < 3) return Errc::kProtocol;
    auto first = range.elements[0].as_integer();
    auto last = range.elements[1].as_integer();
    const Reply& master = range.elements[2];
    if (!first || !last || *first < 0 || *last >= kSlotCount || *first > *last) {
      return Errc::kProtocol;
    }
    if (!master.is_array() || master.elements.size() < 2) return Errc::kProtocol;
    auto host = master.elements[0].as_string();
    auto port = master.elements[1].as_integer();
    if (!host || !port || *port <= 0 || *port > 0xffff) return Errc::kProtocol;
    Endpoint e{host->empty() ? std::string(from_host) : std::string(*host),
               static_cast<uint16_t>(*port)};
    uint16_t idx = map.index_of(e);
    std::fill(map.owner_.begin() + *first, map.owner_.begin() + *last + 1, idx);
  }
  return map;
}

uint16_t SlotMap::index_of(const Endpoint& e) {
  auto it = std::find(masters_.begin(), masters_.end(), e);
  if (it != masters_.end()) return static_cast<uint16_t>(it - masters_.begin());
  masters_.push_back(e);
  return static_cast<uint16_t>(masters_.size() - 1);
}

const Endpoint* SlotMap::owner(uint16_t slot) const {
  uint16_t idx = owner_[slot & (kSlotCount - 1)];
  return idx == kNone ? nullptr : &masters_[idx];
}

void SlotMap::assign(uint16_t slot, const Endpoint& to) {
  owner_[slot & (kSlotCount - 1)] = index_of(to);
}

size_t SlotMap::covered_slots() const {
  return static_cast<size_t>(
      std::count_if(owner_.begin(), owner_.end(), [](uint16_t i) { return i != kNone; }));
}

}  // namespace surge::redis
