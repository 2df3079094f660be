#include "recording/s3_store.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <limits>
#include <optional>
#include <set>

namespace nj::recording {
namespace {

constexpr size_t kKnownMax = 2048;  // files whose parts are kept in memory
constexpr size_t kOffsetDigits = 16;
// A part read in pieces is fetched whole up to this size (a fragment of a few seconds, even
// at a high rate); larger parts (an export's 8 MiB pieces, read a chunk at a time) are read
// by range.
constexpr uint64_t kWholePartMax = uint64_t{4} << 20;
constexpr uint64_t kSmallPart = 64 << 10;  // kept even when read whole
// Parts read in pieces are read one after another (a clip's planning, a player): the next
// few are fetched at the same time, so a clip waits for a gateway's round trip once per
// few fragments rather than once per fragment.
constexpr size_t kReadAhead = 3;

}  // namespace

S3Store::S3Store(std::shared_ptr<s3::Client> client, std::string prefix, size_t part_cache_bytes)
    : client_(std::move(client)),
      prefix_(std::move(prefix)),
      caching_(part_cache_bytes > 0),
      known_(kKnownMax),
      pieces_(part_cache_bytes) {}

std::string S3Store::object(const std::string& key, uint64_t offset) const {
  char digits[kOffsetDigits + 1];
  std::snprintf(digits, sizeof digits, "%016llu", static_cast<unsigned long long>(offset));
  return prefix_ + key + "/" + digits;
}

void S3Store::remember(const std::string& key, Parts parts) {
  std::lock_guard lock(mu_);
  known_.put(key, std::move(parts));
}

void S3Store::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  known_.erase(key);
}

Result<S3Store::Parts, std::string> S3Store::parts(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (const Parts* known = known_.find(key)) return *known;
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
  std::optional<uint64_t> at;
  {
    std::lock_guard lock(mu_);
    if (const Parts* known = known_.find(key)) at = end_of(*known);
  }
  if (!at) {
    auto listed = parts(key);
    if (!listed) return Unexpected(listed.error());
    at = end_of(*listed);
  }
  if (auto put = client_->put(object(key, *at), bytes); !put) return Unexpected(put.error());
  // Added in place: copying the list on each append would cost O(parts) a fragment.
  std::lock_guard lock(mu_);
  if (Parts* known = known_.find(key)) known->push_back({*at, bytes.size()});
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
    if (p.offset + p.size > size) {
      // Its name may be written again with other bytes: what is kept of it goes.
      std::lock_guard lock(mu_);
      pieces_.erase(object(key, p.offset));
    }
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

bool S3Store::kept(const std::string& key, const Part& part) {
  std::lock_guard lock(mu_);
  const Bytes* bytes = pieces_.find(object(key, part.offset));
  return bytes && (*bytes)->size() == part.size;
}

Result<S3Store::Bytes, std::string> S3Store::whole(const std::string& key, const Part& part) {
  const std::string name = object(key, part.offset);
  {
    std::lock_guard lock(mu_);
    if (const Bytes* kept = pieces_.find(name); kept && (*kept)->size() == part.size) {
      return *kept;
    }
  }
  auto got = client_->get(name, 0, part.size);
  if (!got) return Unexpected(got.error());
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(*got));
  std::lock_guard lock(mu_);
  pieces_.put(name, bytes, bytes->size());
  return bytes;
}

void S3Store::read_ahead(const std::string& key, const Parts& parts, size_t first) {
  std::vector<const Part*> next;
  for (size_t i = first + 1; i < parts.size() && next.size() < kReadAhead; ++i) {
    if (parts[i].size > kWholePartMax) break;
    if (!kept(key, parts[i])) next.push_back(&parts[i]);
  }
  // Fetched beside the part asked for; what fails here is fetched again when it is read.
  std::vector<std::future<void>> fetching;
  for (const Part* p : next) {
    fetching.push_back(std::async(std::launch::async, [this, &key, p] { (void)whole(key, *p); }));
  }
  (void)whole(key, parts[first]);
  for (auto& f : fetching) f.wait();
}

Result<std::vector<uint8_t>, std::string> S3Store::read(const std::string& key, uint64_t offset,
                                                        uint64_t length) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  auto current = parts(key);
  if (!current) return Unexpected(current.error());
  if (offset + length > end_of(*current)) {
    // Another node may have written more since this one listed: listed again, once.
    forget(key);
    current = parts(key);
    if (!current) return Unexpected(current.error());
  }
  if (current->empty()) return Unexpected(std::string(kNoFile) + key);
  const uint64_t end = end_of(*current);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(length, end - std::min(offset, end))));
  for (size_t i = 0; i < current->size(); ++i) {
    const Part& p = (*current)[i];
    if (p.offset + p.size <= offset || p.offset >= offset + length) continue;
    const uint64_t from = std::max(offset, p.offset);
    const uint64_t to = std::min(offset + length, p.offset + p.size);
    // A piece of a part: the rest is likely read next, so the whole part is fetched and kept.
    // A small part read whole (an init segment) is kept too; a whole fragment read after its
    // pieces (a clip's body after its planning) comes from memory.
    const bool piece = to - from < p.size;
    if (caching_ && ((piece && p.size <= kWholePartMax) || p.size <= kSmallPart || kept(key, p))) {
      if (piece && !kept(key, p)) read_ahead(key, *current, i);
      auto part = whole(key, p);
      if (!part) return Unexpected(part.error());
      const auto at = (*part)->begin() + static_cast<std::ptrdiff_t>(from - p.offset);
      out.insert(out.end(), at, at + static_cast<std::ptrdiff_t>(to - from));
      continue;
    }
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
  // What this node last saw of it may be another node's past: listed and fetched afresh.
  forget(key);
  auto listed = parts(key);
  if (!listed) return Unexpected(listed.error());
  {
    std::lock_guard lock(mu_);
    for (const auto& p : *listed) pieces_.erase(object(key, p.offset));
  }
  return Store::get(key);
}

bool S3Store::remove(const std::string& key) {
  if (!valid_key(key)) return false;
  forget(key);
  auto listed = parts(key);  // listed afresh: every part, whoever wrote it
  if (!listed || listed->empty()) return false;
  bool all = true;
  for (const auto& p : *listed) {
    all = client_->remove(object(key, p.offset)).has_value() && all;
    std::lock_guard lock(mu_);
    pieces_.erase(object(key, p.offset));
  }
  forget(key);
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

uint64_t S3Store::end_of(const Parts& parts) {
  return parts.empty() ? 0 : parts.back().offset + parts.back().size;
}

uint64_t S3Store::free_bytes() { return std::numeric_limits<uint64_t>::max() / 2; }

}  // namespace nj::recording
