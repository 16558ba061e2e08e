// Request-reading helpers shared by the handlers: JSON bodies and page numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <boost/json/object.hpp>

#include "http/router.h"

namespace surge::app {

// ?current=, 1 when absent; nullopt when present but not a page number.
std::optional<int64_t> page_number(const http::Context& ctx);

// The client's address for rate limits and visitor counts: the peer address, or, when the peer
// is a loopback proxy (nginx on the same host), its X-Real-IP or the last X-Forwarded-For hop.
std::string client_address(const http::Context& ctx);

// The body as a JSON object, or the message for a 400.
std::variant<boost::json::object, std::string> parse_object(const std::string& body);

}  // namespace surge::app
