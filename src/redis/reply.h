// A decoded RESP2 reply and the streaming decoder that produces it (hiredis's redisReader with
// allocation hooks that build Reply trees directly, so no second copy is made).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

struct redisReader;

namespace surge::redis {

struct Reply {
  enum class Type : uint8_t { kNil, kStatus, kError, kString, kInteger, kArray };

  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // status, error or bulk string bytes (binary safe)
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kString || type == Type::kStatus; }
  bool is_array() const { return type == Type::kArray; }

  // Convenience views; each returns nullopt when the reply is of another type.
  std::optional<std::string_view> as_string() const;
  std::optional<int64_t> as_integer() const;  // also parses a bulk string holding a number
};

std::string to_debug_string(const Reply& r);

// Incremental decoder. feed() any byte chunks; next() yields complete replies in order.
// Owned by one thread (the connection's io_context).
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Fails with Errc::kProtocol once the stream is corrupt; the decoder is then unusable.
  Result<void> feed(const char* data, size_t n);
  // A complete reply, nullopt when more bytes are needed, or kProtocol.
  Result<std::optional<Reply>> next();
  // Drops buffered bytes and any error state (used after a reconnect).
  void reset();

 private:
  redisReader* reader_;
};

}  // namespace surge::redis
