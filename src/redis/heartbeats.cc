// SET with PX plus SADD to publish; SMEMBERS then MGET to read, SREM for the expired.
#include "redis/heartbeats.h"

#include <algorithm>

#include "redis/pipeline.h"

namespace surge::redis {

asio::awaitable<Result<void>> Heartbeats::publish(Connection& c, const std::string& name,
                                                  std::string value) const {
  auto cmd = Command::make("SET", value_key(name), value, "PX", ttl_.count());
  cmd.add("SADD", names_, name);
  auto r = co_await exec_as<Done, int64_t>(c, std::move(cmd));
  if (!r) co_return r.error();
  co_return Result<void>();
}

asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> Heartbeats::live(
    Connection& c) const {
  auto names = co_await smembers(c, names_);
  if (!names) co_return names.error();
  std::vector<std::pair<std::string, std::string>> out;
  if (names->empty()) co_return out;
  std::sort(names->begin(), names->end());
  std::vector<std::string> keys;
  for (const auto& n : *names) keys.push_back(value_key(n));
  Command mget;
  mget.add_list("MGET", keys);
  auto values = co_await c.exec(std::move(mget));
  if (!values) co_return values.error();
  if (!values->is_array() || values->elements.size() != names->size()) {
    co_return make_error_code(Errc::kProtocol);
  }
  std::vector<std::string> gone;
  for (size_t i = 0; i < names->size(); ++i) {
    const auto& v = values->elements[i];
    if (v.is_nil()) {
      gone.push_back((*names)[i]);
    } else {
      out.emplace_back((*names)[i], v.str);
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
