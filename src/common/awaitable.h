// The completion token for Asio operations awaited without exceptions.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace surge {

// `auto [ec, n] = co_await op(kTuple)`: a cancelled timer or a closed socket is an ordinary
// outcome of the I/O loops here (shutdown, deadlines), so it comes back as a value to test
// rather than as an exception to catch.
inline constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace surge
