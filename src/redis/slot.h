// Redis Cluster key slots (CRC16 with hash tags), node addresses, the slot map built from
// CLUSTER SLOTS, and the MOVED/ASK redirections that correct it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "redis/reply.h"

namespace surge::redis {

inline constexpr uint16_t kSlotCount = 16384;

// CRC16-CCITT (XModem: polynomial 0x1021, initial value 0), the checksum Redis Cluster uses.
uint16_t crc16(std::string_view data);

// The slot of a key. When the key holds a non-empty "{tag}" (the first '{' and the first '}'
// after it), only the tag is hashed, so "{user1000}.following" and "{user1000}.followers" share a
// slot; an empty "{}" does not count as a tag and the whole key is hashed.
uint16_t key_slot(std::string_view key);

struct Endpoint {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;  // host:port ([v6]:port for IPv6 literals)
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "host:port", "[::1]:port"; the port is after the last ':'. nullopt when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

// A MOVED or ASK error reply, decoded.
struct Redirect {
  bool ask = false;  // ASK: this one command only; MOVED: the slot now lives there
  uint16_t slot = 0;
  Endpoint to;
};

// Parses "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381". Redis may leave the host out
// (":6381", an unknown endpoint): it then means the host of the node that answered, `from_host`.
std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host);

// Which master serves each slot. A value type: the client swaps in a new one on refresh.
class SlotMap {
 public:
  SlotMap() { owner_.fill(kNone); }

  // From a CLUSTER SLOTS reply: [[start, end, [host, port, id, ...], replicas...], ...]. An
  // empty host (the node does not know its own address) means `from_host`, the host asked.
  // kProtocol when the reply has another shape.
  static Result<SlotMap> from_cluster_slots(const Reply& reply, std::string_view from_host);

  // The master of `slot`, or nullptr when no master serves it (yet).
  const Endpoint* owner(uint16_t slot) const;
  // A MOVED answer: `slot` is now served by `to` (added to the masters if new).
  void assign(uint16_t slot, const Endpoint& to);
  // Every master that serves at least one slot, or was assigned one.
  const std::vector<Endpoint>& masters() const { return masters_; }
  size_t covered_slots() const;
  bool empty() const { return masters_.empty(); }

 private:
  static constexpr uint16_t kNone = 0xffff;
  uint16_t index_of(const Endpoint& e);

  std::vector<Endpoint> masters_;
  std::array<uint16_t, kSlotCount> owner_;
};

}  // namespace surge::redis
