// Request-reading helpers.
#include "app/request.h"

#include <boost/json/parse.hpp>

#include "common/error.h"
#include "core/parse.h"

namespace surge::app {

std::optional<int64_t> page_number(const http::Context& ctx) {
  auto text = ctx.query_param("current");
  if (!text) return 1;
  return core::parse_int64(*text, 1, 100000);
}

std::variant<boost::json::object, std::string> parse_object(const std::string& body) {
  error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return std::string("malformed JSON body");
  if (!v.is_object()) return std::string("JSON body must be an object");
  return std::move(v.as_object());
}

}  // namespace surge::app
