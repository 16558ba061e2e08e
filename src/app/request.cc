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

namespace {
std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

std::string client_address(const http::Context& ctx) {
  if (ctx.remote.is_loopback()) {
    std::string_view real = trim_spaces(ctx.header("x-real-ip"));
    if (!real.empty() && real.size() <= 64) return std::string(real);
    std::string_view forwarded = ctx.header("x-forwarded-for");
    size_t comma = forwarded.rfind(',');
    std::string_view last =
        trim_spaces(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1));
    if (!last.empty() && last.size() <= 64) return std::string(last);
  }
  return ctx.remote.to_string();
}

}  // namespace surge::app
