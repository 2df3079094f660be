#include "recording/s3_store.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

namespace nj::recording {
namespace {

constexpr size_t kKnownMax = 2048;  // files whose parts are kept in memory
constexpr size_t kOffsetDigits = 16;

}  // namespace

S3Store::S3Store(std::shared_ptr<s3::Client> client, std::string prefix)
    : client_(std::move(client)), prefix_(std::move(prefix)) {}

std::string S3Store::object(const std::string& key, uint64_t offset) const {
  char digits[kOffsetDigits + 1];
  std::snprintf(digits, sizeof digits, "%016llu", static_cast<unsigned long long>(offset));
  return prefix_ + key + "/" + digits;
}

void S3Store::remember(const std::string& key, Parts parts) {
  std::lock_guard lock(mu_);
  known_[key] = std::move(parts);
  touched_[key] = ++clock_;
  while (known_.size() > kKnownMax) {
    auto oldest =
        std::min_element(touched_.begin(), touched_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    known_.erase(oldest->first);
    touched_.erase(oldest);
  }
}

Result<S3Store::Parts, std::string> S3Store::parts(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) {
      touched_[key] = ++clock_;
      return it->second;
    }
  }
  auto listed = client_->list(prefix_ + key + "/");
  if (!listed) return Unexpected(listed.error());
  Parts out;
  const size_t name_at = prefix_.size() + key.size() + 1;
  for (const auto& o : *listed) {
    const std::string name = o.key.substr(std::min(name_at, o.key.size()));
    if (name.size() != kOffsetDigits ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;  // not a part of this file (a longer key sharing the prefix)
    }
    out.push_back({std::stoull(name), o.size});
  }
  std::sort(out.begin(), out.end(),
            [](const Part& a, const Part& b) { return a.offset < b.offset; });
  remember(key, out);
  return out;
}

Result<void, std::string> S3Store::append(const std::string& key, std::span<const uint8_t> bytes,
                                          bool /*sync*/) {
  // Every append is durable on return: the object is stored whole when the PUT answers.
  if (!valid_key(key)) return Unexpected("bad key " + key);
  auto current = parts(key);
  if (!current) return Unexpected(current.error());
  const uint64_t at = current->empty() ? 0 : current->back().offset + current->back().size;
  if (auto put = client_->put(object(key, at), bytes); !put) return Unexpected(put.error());
  current->push_back({at, bytes.size()});
  remember(key, std::move(*current));
  return {};
}

void S3Store::close(const std::string& key) {
  // Nothing is held open; the parts stay known for the reads that follow.
  (void)key;
}

Result<void, std::string> S3Store::truncate(const std::string& key, uint64_t size) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  auto current = parts(key);
  if (!current) return Unexpected(current.error());
  Parts kept;
  for (const auto& p : *current) {
    if (p.offset >= size) {
      if (auto gone = client_->remove(object(key, p.offset)); !gone) return gone;
    } else if (p.offset + p.size > size) {
      // The part the cut falls in: written again, shorter, under the same name.
      auto head = client_->get(object(key, p.offset), 0, size - p.offset);
      if (!head) return Unexpected(head.error());
      if (auto put = client_->put(object(key, p.offset), *head); !put) return put;
      kept.push_back({p.offset, size - p.offset});
    } else {
      kept.push_back(p);
    }
  }
  remember(key, std::move(kept));
  return {};
}

Result<std::vector<uint8_t>, std::string> S3Store::read(const std::string& key, uint64_t offset,
                                                        uint64_t length) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  auto current = parts(key);
  if (!current) return Unexpected(current.error());
  const auto end = [](const Parts& ps) {
    return ps.empty() ? uint64_t{0} : ps.back().offset + ps.back().size;
  };
  if (offset + length > end(*current)) {
    // Another node may have written more since this one listed: listed again, once.
    {
      std::lock_guard lock(mu_);
      known_.erase(key);
      touched_.erase(key);
    }
    current = parts(key);
    if (!current) return Unexpected(current.error());
  }
  if (current->empty()) return Unexpected(std::string(kNoFile) + key);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(
      std::min<uint64_t>(length, end(*current) - std::min(offset, end(*current)))));
  for (const auto& p : *current) {
    if (p.offset + p.size <= offset || p.offset >= offset + length) continue;
    const uint64_t from = std::max(offset, p.offset);
    const uint64_t to = std::min(offset + length, p.offset + p.size);
    auto got = client_->get(object(key, p.offset), from - p.offset, to - from);
    if (!got) return Unexpected(got.error());
    out.insert(out.end(), got->begin(), got->end());
  }
  return out;  // short at the end of the file, as a file's read is
}

Result<uint64_t, std::string> S3Store::size(const std::string& key) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  auto current = parts(key);
  if (!current) return Unexpected(current.error());
  if (current->empty()) return Unexpected(std::string(kNoFile) + key);
  return current->back().offset + current->back().size;
}

Result<std::vector<uint8_t>, std::string> S3Store::get(const std::string& key) {
  {
    std::lock_guard lock(mu_);  // what this node last saw of it may be another node's past
    known_.erase(key);
    touched_.erase(key);
  }
  return Store::get(key);
}

bool S3Store::remove(const std::string& key) {
  if (!valid_key(key)) return false;
  {
    std::lock_guard lock(mu_);
    known_.erase(key);
    touched_.erase(key);
  }
  auto listed = parts(key);  // listed afresh: every part, whoever wrote it
  if (!listed || listed->empty()) return false;
  bool all = true;
  for (const auto& p : *listed) all = client_->remove(object(key, p.offset)).has_value() && all;
  std::lock_guard lock(mu_);
  known_.erase(key);
  touched_.erase(key);
  return all;
}

std::vector<std::string> S3Store::list(const std::string& prefix) {
  auto listed = client_->list(prefix_ + prefix);
  std::set<std::string> keys;
  if (!listed) return {};
  for (const auto& o : *listed) {
    const auto slash = o.key.rfind('/');
    if (slash == std::string::npos || slash < prefix_.size()) continue;
    keys.insert(o.key.substr(prefix_.size(), slash - prefix_.size()));
  }
  return {keys.begin(), keys.end()};
}

uint64_t S3Store::free_bytes() { return std::numeric_limits<uint64_t>::max() / 2; }

}  // namespace nj::recording
