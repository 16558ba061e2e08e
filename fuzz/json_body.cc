// Fuzzes the JSON body readers (parse_object + FieldReader with the field shapes the shop,
// voucher and blog handlers read) and checks that the response writer's string escaping always
// produces JSON that parses back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include <boost/json/parse.hpp>

#include "app/request.h"
#include "core/json_writer.h"
#include "core/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace surge;
  std::string body(reinterpret_cast<const char*>(data), size);

  auto parsed = app::parse_object(body);
  if (auto* o = std::get_if<boost::json::object>(&parsed)) {
    int64_t id = 0, type = 0, price = 0, stock = 0;
    double x = 0, y = 0, score = 0;
    std::string name, images, text;
    app::FieldReader r(*o);
    r.integer("id", 1, INT64_MAX, id)
        .integer("typeId", 1, 1'000'000, type, true)
        .number("x", -180, 180, x)
        .number("y", -85.05112878, 85.05112878, y)
        .number("score", 0, 50, score)
        .integer("payValue", 0, 1'000'000'000, price)
        .integer("stock", 0, 1'000'000'000, stock)
        .text("name", 128, name, true)
        .text("images", 1024, images)
        .text("content", 2048, text);
    (void)r.present("beginTime");
    if (r.ok() && name.empty()) std::abort();  // required text must be non-empty
    if (auto* t = o->if_contains("beginTime"); t && t->is_string()) {
      (void)core::parse_datetime_ms(std::string_view(t->as_string()));
    }
  }

  // Writer property: any bytes in, valid JSON out; valid UTF-8 in comes back unchanged.
  core::JsonWriter w;
  w.begin_object().field("k", std::string_view(body)).end_object();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(w.str(), ec);
  if (!ec) {
    const auto& s = v.as_object().at("k").as_string();
    if (std::string_view(s) != body) std::abort();
  } else {
    // The writer passes UTF-8 through unchecked, so only bytes that are not ASCII may make the
    // output unparsable (Boost.JSON refuses invalid UTF-8); pure ASCII must always round-trip.
    for (unsigned char c : body) {
      if (c >= 0x80) return 0;
    }
    std::abort();
  }
  return 0;
}
