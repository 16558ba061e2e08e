// RESP2 decoding through hiredis's reader, building Reply trees in place.
#include "redis/reply.h"

#include <algorithm>
#include <charconv>

#include <hiredis/read.h>
#include <spdlog/spdlog.h>

namespace surge::redis {

std::optional<std::string_view> Reply::as_string() const {
  if (type != Type::kString && type != Type::kStatus) return std::nullopt;
  return std::string_view(str);
}

std::optional<int64_t> Reply::as_integer() const {
  if (type == Type::kInteger) return integer;
  if (type != Type::kString) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
  if (ec != std::errc{} || end != str.data() + str.size()) return std::nullopt;
  return v;
}

std::string to_debug_string(const Reply& r) {
  switch (r.type) {
    case Reply::Type::kNil:
      return "(nil)";
    case Reply::Type::kStatus:
      return r.str;
    case Reply::Type::kError:
      return "(error) " + r.str;
    case Reply::Type::kString:
      return '"' + r.str + '"';
    case Reply::Type::kInteger:
      return "(integer) " + std::to_string(r.integer);
    case Reply::Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i) out += ", ";
        out += to_debug_string(r.elements[i]);
      }
      return out + "]";
    }
  }
  return "?";
}

namespace {

// hiredis hands us each value with its parent task; a child lives inside its parent's element
// vector, so only the root is heap-allocated (and freed by the reader on error). The vector grows
// as children arrive instead of being sized from the declared count: "*2000000000" is a few
// bytes, and trusting it would allocate gigabytes before a single element came (found by
// fuzz/resp). Growing is safe: hiredis fills one array at a time, depth first, so nothing holds
// a pointer into the vector being grown but the child just made.
Reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr) return new Reply;
  auto* parent = static_cast<Reply*>(task->parent->obj);
  auto idx = static_cast<size_t>(task->idx);
  if (parent->elements.size() <= idx) parent->elements.resize(idx + 1);
  return &parent->elements[idx];
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  Reply* r = slot_for(task);
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r->type = Reply::Type::kError;
      break;
    case REDIS_REPLY_STATUS:
      r->type = Reply::Type::kStatus;
      break;
    default:
      r->type = Reply::Type::kString;
      break;
  }
  r->str.assign(str, len);
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  // hiredis 0.14 passes any declared count but -1 (nil) through; a negative one is corrupt.
  // nullptr makes the reader fail the stream (kProtocol).
  if (elements < 0) return nullptr;
  Reply* r = slot_for(task);
  r->type = Reply::Type::kArray;
  r->elements.reserve(std::min(static_cast<size_t>(elements), size_t{64}));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  Reply* r = slot_for(task);
  r->type = Reply::Type::kInteger;
  r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
  Reply* r = slot_for(task);
  r->type = Reply::Type::kNil;
  return r;
}

void free_object(void* obj) { delete static_cast<Reply*>(obj); }

redisReplyObjectFunctions kFunctions = {create_string, create_array, create_integer, create_nil,
                                        free_object};

}  // namespace

Decoder::Decoder() : reader_(redisReaderCreateWithFunctions(&kFunctions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

Decoder::~Decoder() { redisReaderFree(reader_); }

void Decoder::reset() {
  redisReaderFree(reader_);
  reader_ = redisReaderCreateWithFunctions(&kFunctions);
  if (reader_ == nullptr) throw std::bad_alloc();
}

Result<void> Decoder::feed(const char* data, size_t n) {
  if (reader_->err != 0 || redisReaderFeed(reader_, data, n) != REDIS_OK) {
    return Errc::kProtocol;
  }
  return {};
}

Result<std::optional<Reply>> Decoder::next() {
  void* obj = nullptr;
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) {
    spdlog::warn("redis: protocol error: {}", reader_->errstr);
    return Errc::kProtocol;
  }
  if (obj == nullptr) return std::optional<Reply>();
  std::unique_ptr<Reply> root(static_cast<Reply*>(obj));
  return std::optional<Reply>(std::move(*root));
}

}  // namespace surge::redis
