// Request-reading helpers shared by the handlers: JSON bodies and page numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "core/net.h"
#include "http/router.h"

namespace surge::app {

// ?current=, 1 when absent; nullopt when present but not a page number.
std::optional<int64_t> page_number(const http::Context& ctx);

// The client's address for rate limits and visitor counts: the peer address, or, only when the
// peer is one of the trusted proxies (--trusted-proxy), its X-Real-IP or the last
// X-Forwarded-For hop. Anyone else could choose their own bucket by sending those headers.
std::string client_address(const http::Context& ctx, const std::vector<core::Cidr>& proxies);

// The body as a JSON object, or the message for a 400.
std::variant<boost::json::object, std::string> parse_object(const std::string& body);

// Typed reads of a JSON body's fields, shared by every handler that takes one. Each read stores
// the field into `out` when it is present and usable, leaves `out` alone when it is absent or
// null, and otherwise (wrong type, out of bounds, or absent while required) records
// "invalid field: <name>" as the error; after the first error later reads do nothing.
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& o) : o_(o) {}

  FieldReader& integer(std::string_view name, int64_t min, int64_t max, int64_t& out,
                       bool required = false);
  FieldReader& number(std::string_view name, double min, double max, double& out,
                      bool required = false);
  // At most `max` bytes; a required text must also be non-empty.
  FieldReader& text(std::string_view name, size_t max, std::string& out, bool required = false);
  // text() that must also be plain text (core::is_plain_text: no '<' or '>', no control
  // characters but tab and newline), for fields the original pages render.
  FieldReader& plain_text(std::string_view name, size_t max, std::string& out,
                          bool required = false);

  bool present(std::string_view name) const;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  // The field when it should be read: present, not null, and no error so far.
  const boost::json::value* field(std::string_view name, bool required);
  FieldReader& fail(std::string_view name);

  const boost::json::object& o_;
  std::string error_;
};

}  // namespace surge::app
