// Request-reading helpers.
#include "app/request.h"

#include <boost/json/parse.hpp>

#include "common/error.h"
#include "core/parse.h"
#include "core/sanitize.h"

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

std::string client_address(const http::Context& ctx, const std::vector<core::Cidr>& proxies) {
  std::string peer = ctx.remote.to_string();
  if (core::in_any(proxies, peer)) {
    std::string_view real = trim_spaces(ctx.header("x-real-ip"));
    if (!real.empty() && real.size() <= 64) return std::string(real);
    std::string_view forwarded = ctx.header("x-forwarded-for");
    size_t comma = forwarded.rfind(',');
    std::string_view last =
        trim_spaces(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1));
    if (!last.empty() && last.size() <= 64) return std::string(last);
  }
  return peer;
}

const boost::json::value* FieldReader::field(std::string_view name, bool required) {
  if (!ok()) return nullptr;
  const boost::json::value* v = o_.if_contains(name);
  if (v && !v->is_null()) return v;
  if (required) fail(name);
  return nullptr;
}

FieldReader& FieldReader::fail(std::string_view name) {
  if (ok()) error_ = "invalid field: " + std::string(name);
  return *this;
}

bool FieldReader::present(std::string_view name) const {
  const boost::json::value* v = o_.if_contains(name);
  return v && !v->is_null();
}

FieldReader& FieldReader::integer(std::string_view name, int64_t min, int64_t max, int64_t& out,
                                  bool required) {
  const boost::json::value* v = field(name, required);
  if (!v) return *this;
  if (v->is_uint64() && v->as_uint64() > static_cast<uint64_t>(INT64_MAX)) return fail(name);
  if (!v->is_int64() && !v->is_uint64()) return fail(name);
  int64_t n = v->to_number<int64_t>();
  if (n < min || n > max) return fail(name);
  out = n;
  return *this;
}

FieldReader& FieldReader::number(std::string_view name, double min, double max, double& out,
                                 bool required) {
  const boost::json::value* v = field(name, required);
  if (!v) return *this;
  if (!v->is_number()) return fail(name);
  double d = v->to_number<double>();
  if (d < min || d > max) return fail(name);
  out = d;
  return *this;
}

FieldReader& FieldReader::text(std::string_view name, size_t max, std::string& out, bool required) {
  const boost::json::value* v = field(name, required);
  if (!v) return *this;
  if (!v->is_string() || v->as_string().size() > max) return fail(name);
  if (required && v->as_string().empty()) return fail(name);
  out = std::string(v->as_string());
  return *this;
}

FieldReader& FieldReader::plain_text(std::string_view name, size_t max, std::string& out,
                                     bool required) {
  std::string read;
  text(name, max, read, required);
  if (!ok() || !present(name)) return *this;
  if (!core::is_plain_text(read)) return fail(name);
  out = std::move(read);
  return *this;
}

}  // namespace surge::app
