// A small append-only JSON writer for response bodies. It exists because Boost.JSON 1.81 prints
// doubles in exponent form (1.2034E2) where the original API printed plain decimals (120.34),
// and because writing straight into one string is the cheapest way to build hot responses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace surge::core {

// Usage: JsonWriter w; w.begin_object(); w.key("id"); w.value(1); w.end_object();
// The caller keeps keys and values balanced; commas are inserted automatically.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(double v);  // shortest round-trip decimal; non-finite becomes null
  JsonWriter& value(bool v);
  JsonWriter& null();
  JsonWriter& raw(std::string_view json);  // already-serialised JSON

  // Shorthand for key(k).value(v).
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

// Appends `s` as a quoted JSON string (UTF-8 passes through; control characters are escaped).
void append_json_string(std::string& out, std::string_view s);

}  // namespace surge::core
