// The one place where engine errors become HTTP statuses and envelope messages.
#pragma once

#include "common/error.h"
#include "http/router.h"

namespace surge::app {

// kInvalidArgument → 400, kConflict → 409, kUnavailable/kTimeout/
// kShuttingDown → 503, everything else → 500; the body is always the failure envelope.
http::Response error_response(error_code ec);

// HTTP 200 with success=false: the original's convention for business failures.
http::Response business_failure(std::string_view message);
http::Response bad_request(std::string_view message);

}  // namespace surge::app
