// Prometheus text exposition, written in one place: every metric family gets its HELP and TYPE
// line exactly once, before its samples, as `promtool check metrics` requires. Components render
// their own numbers through it; none of them formats the text by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace surge::core {

// Appends to a borrowed string; the caller keeps it alive while writing.
class Exposition {
 public:
  explicit Exposition(std::string& out) : out_(out) {}

  // Starts a family: `type` is counter, gauge or histogram.
  Exposition& family(std::string_view name, std::string_view type, std::string_view help);
  // One sample; `labels` is the inside of the braces (`class="shop",result="hit"`) or empty.
  Exposition& sample(std::string_view name, std::string_view labels, uint64_t value);
  Exposition& sample(std::string_view name, std::string_view labels, double value);
  // A family with a single unlabelled sample.
  Exposition& single(std::string_view name, std::string_view type, std::string_view help,
                     uint64_t value);

 private:
  std::string& out_;
};

}  // namespace surge::core
