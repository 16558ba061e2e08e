// Request framing rules checked between Beast's header read and the body (pure: no I/O, so the
// fuzz targets and tests can call it directly).
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "http/router.h"

namespace surge::http {

// A status and message for a request refused before routing.
using Failure = std::pair<unsigned, std::string_view>;

// RFC 9112 6.1/6.3 for a request whose header has been read: a Transfer-Encoding that does not
// end in chunked, repeats it, sits beside a Content-Length or comes with HTTP/1.0 is 400,
// another coding than chunked 501; nullopt when the framing is unambiguous.
std::optional<Failure> framing_failure(const Request& req);

}  // namespace surge::http
