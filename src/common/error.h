// Surge's error vocabulary: one enum registered as a boost::system category, so engine code can
// return Result<T> and callers can compare against error_code values from Asio and Beast alike.
#pragma once

#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace surge {

using boost::system::error_code;

enum class Errc {
  kOk = 0,
  kInvalidArgument,  // the caller's input is unusable (bad id, malformed JSON, ...)
  kConflict,         // a uniqueness or state rule forbids the change
  kUnavailable,      // a dependency (Redis, MariaDB) cannot be reached right now
  kTimeout,          // a dependency did not answer in time
  kProtocol,         // a peer sent bytes that break its protocol
  kServerError,      // a dependency answered with an error (Redis -ERR, SQL error)
  kShuttingDown,     // the process is stopping and takes no new work
  kInternal,         // a bug in Surge; logged and counted
  kCancelled,        // the caller went away before the work started
};

const boost::system::error_category& surge_category() noexcept;

inline error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), surge_category()};
}

template <class T>
using Result = boost::system::result<T>;

}  // namespace surge

template <>
struct boost::system::is_error_code_enum<surge::Errc> : std::true_type {};
