// RESP encoding of commands: every argument as a bulk string, so keys and values are binary safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace surge::redis {

// A command (or several, for a pipeline) in wire form, plus how many replies it will produce.
class Command {
 public:
  Command() = default;

  // Starts a new command of `argc` arguments; append exactly that many args afterwards.
  Command& begin(size_t argc);
  Command& arg(std::string_view a);
  Command& arg(int64_t v);
  Command& arg(uint64_t v);
  Command& arg(double v);

  // One complete command from its arguments: Command::make("SET", key, value, "PX", 100).
  template <class... Args>
  static Command make(const Args&... args) {
    Command c;
    c.begin(sizeof...(Args));
    (c.push(args), ...);
    return c;
  }
  // Appends another complete command (for explicit pipelines).
  template <class... Args>
  Command& add(const Args&... args) {
    begin(sizeof...(Args));
    (push(args), ...);
    return *this;
  }

  // Appends one command whose last arguments are a list (SADD key m1 m2 ..., PFCOUNT k1 k2 ...);
  // the argument count comes from the list.
  Command& add_list(std::string_view verb, const std::vector<std::string>& tail) {
    begin(1 + tail.size()).arg(verb);
    for (const auto& t : tail) arg(t);
    return *this;
  }
  Command& add_list(std::string_view verb, std::string_view key,
                    const std::vector<std::string>& tail) {
    begin(2 + tail.size()).arg(verb).arg(key);
    for (const auto& t : tail) arg(t);
    return *this;
  }

  // Appends every command of `other` (for merging commands into one pipeline).
  Command& append(const Command& other) {
    wire_ += other.wire_;
    replies_ += other.replies_;
    return *this;
  }

  // Room for `bytes` of wire form, so a command built argument by argument grows its buffer once.
  void reserve(size_t bytes) { wire_.reserve(bytes); }

  const std::string& wire() const { return wire_; }
  size_t reply_count() const { return replies_; }
  bool empty() const { return replies_ == 0; }

 private:
  template <class T>
  void push(const T& v) {
    if constexpr (std::integral<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
      arg(static_cast<uint64_t>(v));
    } else if constexpr (std::integral<T>) {
      arg(static_cast<int64_t>(v));
    } else if constexpr (std::floating_point<T>) {
      arg(static_cast<double>(v));
    } else {
      arg(std::string_view(v));
    }
  }

  std::string wire_;
  size_t replies_ = 0;
};

}  // namespace surge::redis
