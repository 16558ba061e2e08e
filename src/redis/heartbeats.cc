// SET with PX plus SADD to publish; SMEMBERS then a GET per name to read (the values' keys may
// live on different nodes), SREM for the expired.
#include "redis/heartbeats.h"

#include <algorithm>

#include "redis/pipeline.h"

namespace surge::redis {

asio::awaitable<Result<void>> Heartbeats::publish(Client& c, const std::string& name,
                                                  std::string value) const {
  auto requests = batch(Request::keyed(1, "SET", value_key(name), value, "PX", ttl_.count()),
                        Request::keyed(1, "SADD", names_, name));
  auto r = co_await exec_as<Done, int64_t>(c, std::move(requests));
  if (!r) co_return r.error();
  co_return Result<void>();
}

asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> Heartbeats::live(
    Client& c) const {
  auto names = co_await smembers(c, names_);
  if (!names) co_return names.error();
  std::vector<std::pair<std::string, std::string>> out;
  if (names->empty()) co_return out;
  std::sort(names->begin(), names->end());
  std::vector<Request> gets;
  for (const auto& n : *names) gets.push_back(Request::keyed(1, "GET", value_key(n)));
  auto values = co_await exec_each<std::optional<std::string>>(c, std::move(gets));
  if (!values) co_return values.error();
  std::vector<std::string> gone;
  for (size_t i = 0; i < names->size(); ++i) {
    auto& v = (*values)[i];
    if (!v) {
      gone.push_back((*names)[i]);
    } else {
      out.emplace_back((*names)[i], std::move(*v));
    }
  }
  // A name published again between the MGET and the SREM is added back by its next publish.
  if (!gone.empty()) {
    auto removed = co_await srem(c, names_, std::move(gone));
    if (!removed) co_return removed.error();
  }
  co_return out;
}

}  // namespace surge::redis
