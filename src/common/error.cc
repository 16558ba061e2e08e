// The category that names Surge's error codes in logs and envelopes.
#include "common/error.h"

namespace surge {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "surge"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk:
        return "ok";
      case Errc::kInvalidArgument:
        return "invalid argument";
      case Errc::kConflict:
        return "conflict";
      case Errc::kUnavailable:
        return "service unavailable";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kProtocol:
        return "protocol error";
      case Errc::kServerError:
        return "server error";
      case Errc::kShuttingDown:
        return "shutting down";
      case Errc::kInternal:
        return "internal error";
      case Errc::kCancelled:
        return "cancelled: the client went away";
    }
    return "unknown surge error";
  }
};

}  // namespace

const boost::system::error_category& surge_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace surge
