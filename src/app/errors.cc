// Error → status mapping.
#include "app/errors.h"

#include <spdlog/spdlog.h>

#include "http/envelope.h"

namespace surge::app {

http::Response error_response(error_code ec) {
  namespace envelope = http::envelope;
  if (ec == Errc::kInvalidArgument) return http::json(400, envelope::fail("invalid request"));
  if (ec == Errc::kConflict) return http::json(409, envelope::fail("conflict"));
  // kCancelled: nobody reads this answer (the client has gone); it must not count as a bug.
  if (ec == Errc::kUnavailable || ec == Errc::kTimeout || ec == Errc::kShuttingDown ||
      ec == Errc::kCancelled) {
    return http::json(503, envelope::fail("service temporarily unavailable: " + ec.message()));
  }
  spdlog::error("request failed: {} ({})", ec.message(), ec.category().name());
  return http::json(500, envelope::fail("服务器异常"));
}

http::Response business_failure(std::string_view message) {
  return http::json(200, http::envelope::fail(message));
}

http::Response bad_request(std::string_view message) {
  return http::json(400, http::envelope::fail(message));
}

}  // namespace surge::app
