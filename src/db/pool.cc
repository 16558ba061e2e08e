// Pool bookkeeping; the awaitable bridge itself is the template in pool.h.
#include "db/pool.h"

#include <mysql.h>

namespace surge::db {

Pool::Pool(Options options) : options_(std::move(options)), threads_(options_.pool_size) {
  // Connector/C needs its library initialised once before threads use it.
  static const bool initialised = [] { return mysql_library_init(0, nullptr, nullptr) == 0; }();
  (void)initialised;
  for (size_t i = 0; i < options_.pool_size; ++i) {
    idle_.push_back(std::make_unique<Connection>(options_));
  }
}

Pool::~Pool() {
  stop();
  threads_.join();
}

bool Pool::admit() {
  if (stopped_) return false;
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= options_.max_queue) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::unique_ptr<Connection> Pool::acquire() {
  std::lock_guard lock(mu_);
  // Threads == connections, so a running job always finds one idle.
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void Pool::release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(c));
}

// Plain functions returning the awaitable, not coroutines: a closure with captured strings
// living in a coroutine frame across co_await miscompiles with GCC 12 (freed SSO buffers).
asio::awaitable<Result<Rows>> Pool::query(std::string sql, Params params) {
  return run([sql = std::move(sql), params = std::move(params)](Connection& c) {
    return c.query(sql, params);
  });
}

asio::awaitable<Result<ExecResult>> Pool::execute(std::string sql, Params params) {
  return run([sql = std::move(sql), params = std::move(params)](Connection& c) {
    return c.execute(sql, params);
  });
}

asio::awaitable<Result<void>> Pool::ping() {
  return run([](Connection& c) { return c.ping(); });
}

}  // namespace surge::db
