// Per-worker state without indices (after Seastar's sharded<T>::local()): each worker thread
// says once which worker it is, and a PerWorker<T> hands that thread its own T. Nothing passes a
// worker number through calls to pick an element out of a parallel array.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "common/assert.h"

namespace surge {

namespace this_worker {

namespace detail {
inline thread_local size_t index = static_cast<size_t>(-1);
}

// Called once at the top of each worker thread.
inline void enter(size_t worker) { detail::index = worker; }
inline bool inside() { return detail::index != static_cast<size_t>(-1); }
// The calling worker's number; calling it off the workers is a bug and aborts.
inline size_t index() {
  SURGE_CHECK(inside());
  return detail::index;
}

}  // namespace this_worker

// One T per worker. Filled before the workers start, then each element is touched only by its
// own worker (local()), or by the main thread while the workers are stopped (at()).
template <class T>
class PerWorker {
 public:
  void add(T item) { items_.push_back(std::move(item)); }

  T& local() { return items_.at(this_worker::index()); }
  // Worker `i`'s element, for wiring and shutdown from the main thread.
  T& at(size_t i) { return items_.at(i); }
  const T& at(size_t i) const { return items_.at(i); }
  size_t size() const { return items_.size(); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }

 private:
  std::vector<T> items_;
};

}  // namespace surge
