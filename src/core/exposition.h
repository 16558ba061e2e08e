// Prometheus text exposition, written in one place: every metric family gets its HELP and TYPE
// line exactly once, before its samples, as `promtool check metrics` requires. Components render
// their own numbers through it; none of them formats the text by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace surge::core {

// Appends to a borrowed string; the caller keeps it alive while writing.
class Exposition {
 public:
  explicit Exposition(std::string& out) : out_(out) {}

  // Starts a family: `type` is counter, gauge or histogram.
  Exposition& family(std::string_view name, std::string_view type, std::string_view help);
  // One sample; `labels` is the inside of the braces (`class="shop",result="hit"`) or empty.
  Exposition& sample(std::string_view name, std::string_view labels, uint64_t value) {
    return write_sample(name, labels, fmt::format("{}", value));
  }
  Exposition& sample(std::string_view name, std::string_view labels, double value) {
    return write_sample(name, labels, fmt::format("{}", value));
  }
  // A family with a single unlabelled sample.
  Exposition& single(std::string_view name, std::string_view type, std::string_view help,
                     uint64_t value);

 private:
  Exposition& write_sample(std::string_view name, std::string_view labels, std::string_view value);
  std::string& out_;
};

// One sample read back from the text: what the dashboard's JSON is built from, so the numbers
// it shows are exactly the ones /metrics exports.
struct ParsedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values, in text order
  double value = 0;
};

// Reads the sample lines of a text exposition (comments and blank lines are skipped); a line
// that does not parse is skipped too, so one odd line cannot hide the rest.
std::vector<ParsedSample> parse_exposition(std::string_view text);

}  // namespace surge::core
