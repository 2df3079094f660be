#include "device/access_watch.h"

#include <vector>

namespace nj::device {

AccessWatch::Hold::~Hold() { watch_.release(id_); }

std::unique_ptr<AccessWatch::Hold> AccessWatch::hold(std::string serial, std::string subject,
                                                     int64_t generation,
                                                     std::function<void()> end) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  entries_.emplace(
      id, Entry{std::move(serial), std::move(subject), generation, std::move(end), false, {}});
  return std::unique_ptr<Hold>(new Hold(*this, id));
}

void AccessWatch::release(uint64_t id) {
  std::unique_lock lock(mu_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.ending && it->second.ending_on != std::this_thread::get_id()) {
    ended_.wait(lock, [&] { return !entries_.contains(id); });  // its `end` is running
    return;
  }
  entries_.erase(it);  // not ending, or ending on this very thread (the Hold's owner died in it)
}

size_t AccessWatch::end_where(const std::function<bool(const Entry&)>& match) {
  std::vector<std::pair<uint64_t, std::function<void()>>> run;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) {
      if (e.ending || !match(e)) continue;
      e.ending = true;
      e.ending_on = std::this_thread::get_id();
      run.emplace_back(id, e.end);
    }
  }
  // Outside the lock: an `end` may drop the last reference to the Hold's owner.
  for (auto& [id, end] : run) {
    if (end) end();
    {
      std::lock_guard lock(mu_);
      entries_.erase(id);
    }
    ended_.notify_all();
  }
  return run.size();
}

size_t AccessWatch::end_for(const std::string& serial, const std::string& subject) {
  return end_where([&](const Entry& e) { return e.serial == serial && e.subject == subject; });
}

size_t AccessWatch::end_device(const std::string& serial) {
  return end_where([&](const Entry& e) { return e.serial == serial; });
}

size_t AccessWatch::end_subject(const std::string& subject) {
  return end_where([&](const Entry& e) { return e.subject == subject; });
}

size_t AccessWatch::end_older(const std::string& serial, int64_t generation) {
  return end_where([&](const Entry& e) { return e.serial == serial && e.generation < generation; });
}

std::set<std::pair<std::string, std::string>> AccessWatch::held() const {
  std::lock_guard lock(mu_);
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [id, e] : entries_) out.emplace(e.serial, e.subject);
  return out;
}

size_t AccessWatch::open() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace nj::device
