// A bounded map that forgets what was used longest ago. Each entry has a cost (1, or its
// size in bytes); the sum stays within the capacity, except that one entry larger than the
// whole capacity is never kept. Not thread-safe: its owner locks.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

namespace nj {

template <class Key, class Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The value, now the most recently used; null if absent.
  Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->value;
  }

  // Kept (replacing any value of the key), then the least recently used go until it fits.
  void put(const Key& key, Value value, size_t cost = 1) {
    erase(key);
    if (cost > capacity_) return;
    order_.push_front({key, std::move(value), cost});
    index_.emplace(key, order_.begin());
    cost_ += cost;
    while (cost_ > capacity_) {
      cost_ -= order_.back().cost;
      index_.erase(order_.back().key);
      order_.pop_back();
    }
  }

  void erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    cost_ -= it->second->cost;
    order_.erase(it->second);
    index_.erase(it);
  }

  // Every entry whose value matches goes (a scan: for what is rare, as a revocation).
  template <class Predicate>
  void erase_if(Predicate matches) {
    for (auto it = order_.begin(); it != order_.end();) {
      if (matches(it->value)) {
        cost_ -= it->cost;
        index_.erase(it->key);
        it = order_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void clear() {
    order_.clear();
    index_.clear();
    cost_ = 0;
  }

  size_t size() const { return index_.size(); }
  size_t cost() const { return cost_; }

 private:
  struct Entry {
    Key key;
    Value value;
    size_t cost;
  };
  size_t capacity_;
  size_t cost_ = 0;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<Key, typename std::list<Entry>::iterator> index_;
};

}  // namespace nj
