// Typed pipelines: several commands in one round trip, each reply converted to the C++ type its
// command promises (in the spirit of Boost.Redis request + response<T...>). Callers never index
// raw replies, and a pipeline whose command count differs from its declared reply types is a
// debug assertion and, in release builds, a protocol error instead of misread replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/assert.h"
#include "redis/client.h"
#include "redis/commands.h"

namespace surge::redis {

// Any reply but an error (SET, PEXPIRE, DEL whose answer does not matter).
struct Done {};
// Whether a lookup found something (ZSCORE, HGET): nil is absent, any other value present.
struct Presence {
  bool present = false;
};

// How one reply becomes a T. Error replies become Errc::kServerError, wrong shapes kProtocol.
template <class T>
struct ReplyAs;
template <>
struct ReplyAs<int64_t> {
  static Result<int64_t> from(Reply r) { return to_integer(Result<Reply>(std::move(r))); }
};
template <>
struct ReplyAs<std::optional<std::string>> {
  static Result<std::optional<std::string>> from(Reply r) {
    return to_optional_string(Result<Reply>(std::move(r)));
  }
};
template <>
struct ReplyAs<FieldValues> {
  static Result<FieldValues> from(Reply r) { return to_pairs(Result<Reply>(std::move(r))); }
};
template <>
struct ReplyAs<std::vector<std::string>> {
  static Result<std::vector<std::string>> from(Reply r) {
    return to_string_list(Result<Reply>(std::move(r)));
  }
};
template <>
struct ReplyAs<ScoredMembers> {
  static Result<ScoredMembers> from(Reply r) { return to_scored(Result<Reply>(std::move(r))); }
};
template <>
struct ReplyAs<std::vector<int64_t>> {
  static Result<std::vector<int64_t>> from(Reply r) {
    return to_integers(Result<Reply>(std::move(r)));
  }
};
template <>
struct ReplyAs<Presence> {
  static Result<Presence> from(Reply r) {
    auto ok = expect_ok(Result<Reply>(r));
    if (!ok) return ok.error();
    return Presence{!r.is_nil()};
  }
};
template <>
struct ReplyAs<Done> {
  static Result<Done> from(Reply r) {
    auto ok = expect_ok(Result<Reply>(std::move(r)));
    if (!ok) return ok.error();
    return Done{};
  }
};

namespace detail {

template <class... T, size_t... I>
Result<std::tuple<T...>> convert(std::vector<Reply>& replies, std::index_sequence<I...>) {
  std::tuple<Result<T>...> parts{ReplyAs<T>::from(std::move(replies[I]))...};
  error_code ec;
  ((ec = ec ? ec : (std::get<I>(parts) ? error_code() : std::get<I>(parts).error())), ...);
  if (ec) return ec;
  return std::tuple<T...>{std::move(*std::get<I>(parts))...};
}

template <class... T>
Result<std::tuple<T...>> convert_all(Result<std::vector<Reply>> replies) {
  if (!replies) return replies.error();
  if (replies->size() != sizeof...(T)) return make_error_code(Errc::kProtocol);
  return convert<T...>(*replies, std::index_sequence_for<T...>{});
}

}  // namespace detail

// `requests` (exactly sizeof...(T)), each on its key's node, in one round trip per node; the
// replies as a tuple in the caller's order.
template <class... T>
asio::awaitable<Result<std::tuple<T...>>> exec_as(Client& c, std::vector<Request> requests) {
  SURGE_ASSERT(requests.size() == sizeof...(T));
  if (requests.size() != sizeof...(T)) co_return make_error_code(Errc::kProtocol);
  co_return detail::convert_all<T...>(co_await c.exec_all(std::move(requests)));
}

// One request; its reply as a T.
template <class T>
asio::awaitable<Result<T>> exec_one(Client& c, Request request) {
  auto reply = co_await c.exec(std::move(request));
  if (!reply) co_return reply.error();
  co_return ReplyAs<T>::from(std::move(*reply));
}

namespace detail {

template <class T>
Result<std::vector<T>> convert_each(Result<std::vector<Reply>> replies, size_t n) {
  if (!replies) return replies.error();
  if (replies->size() != n) return make_error_code(Errc::kProtocol);
  std::vector<T> out;
  out.reserve(n);
  for (auto& r : *replies) {
    auto v = ReplyAs<T>::from(std::move(r));
    if (!v) return v.error();
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace detail

// Any number of requests of one reply type, each on its key's node; the replies in the caller's
// order.
template <class T>
asio::awaitable<Result<std::vector<T>>> exec_each(Client& c, std::vector<Request> requests) {
  size_t n = requests.size();
  if (n == 0) co_return std::vector<T>();
  co_return detail::convert_each<T>(co_await c.exec_all(std::move(requests)), n);
}

}  // namespace surge::redis
