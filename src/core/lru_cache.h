// A bounded LRU map with per-entry expiry, for per-worker near caches. Not thread-safe by
// design: each worker owns its own instance, so the hot path takes no lock. Looked up by view:
// a hit or an overwrite builds no string, and a new entry stores its key once (the index views
// the list node's copy, whose address never changes).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace surge::core {

template <class V, class Clock = std::chrono::steady_clock>
class LruCache {
 public:
  using TimePoint = typename Clock::time_point;

  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The value if present and not expired at `now`; a hit moves the entry to the front.
  const V* find(std::string_view key, TimePoint now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    auto node = it->second;
    if (node->expires <= now) {
      index_.erase(it);
      order_.erase(node);
      return nullptr;
    }
    order_.splice(order_.begin(), order_, node);
    return &node->value;
  }

  void put(std::string_view key, V value, TimePoint expires) {
    if (capacity_ == 0) return;
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->value = std::move(value);
      it->second->expires = expires;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().key);
      order_.pop_back();
    }
    order_.push_front(Node{std::string(key), std::move(value), expires});
    index_.emplace(order_.front().key, order_.begin());
  }

  bool erase(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    auto node = it->second;
    index_.erase(it);
    order_.erase(node);
    return true;
  }

  void clear() {
    index_.clear();
    order_.clear();
  }
  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Node {
    std::string key;
    V value;
    TimePoint expires;
  };
  size_t capacity_;
  std::list<Node> order_;  // most recently used first
  // Keys view the nodes' strings; an entry leaves the index before its node is freed.
  std::unordered_map<std::string_view, typename std::list<Node>::iterator> index_;
};

}  // namespace surge::core
