#include "recording/sealed.h"

#include <algorithm>

#include "keys/records.h"

namespace nj::recording {

std::string record_context(const std::string& device_id, int64_t segment_id, size_t index) {
  return "nightjar-recording\n" + device_id + "\n" + std::to_string(segment_id) + "\n" +
         std::to_string(index);
}

uint64_t stored_size(const Segment& s) {
  return s.bytes + (s.key_generation ? keys::kRecordOverhead * (1 + s.fragments.size()) : 0);
}

SegmentReader::SegmentReader(Store& store, const Segment& segment, std::optional<keys::Key> key)
    : store_(store),
      store_key_(segment.store_key),
      device_id_(segment.device_id),
      segment_id_(segment.id),
      sealed_(segment.key_generation.has_value()),
      key_(key) {
  plain_.reserve(segment.fragments.size() + 2);
  plain_.push_back(0);
  plain_.push_back(segment.init_size);
  for (const auto& f : segment.fragments) plain_.push_back(plain_.back() + f.size);
}

Result<std::vector<uint8_t>, std::string> SegmentReader::read(uint64_t offset, uint64_t length) {
  if (!sealed_) return store_.read(store_key_, offset, length);
  if (!key_) return Unexpected(std::string("the recording's key is gone"));
  const uint64_t end = std::min(offset + length, size());
  std::vector<uint8_t> out;
  if (offset >= end) return out;
  out.reserve(end - offset);
  size_t i = record_of(offset);
  std::lock_guard lock(mu_);
  for (uint64_t at = offset; at < end; ++i) {
    if (cached_ != i) {
      const uint64_t plain_size = plain_[i + 1] - plain_[i];
      auto sealed = store_.read(store_key_, plain_[i] + i * keys::kRecordOverhead,
                                plain_size + keys::kRecordOverhead);
      if (!sealed) return Unexpected(sealed.error());
      if (!keys::open_record(*key_, record_context(device_id_, segment_id_, i), *sealed, opened_) ||
          opened_.size() != plain_size) {
        cached_ = SIZE_MAX;
        return Unexpected(std::string("a sealed record does not open"));
      }
      cached_ = i;
    }
    const uint64_t from = at - plain_[i], to = std::min(end, plain_[i + 1]) - plain_[i];
    out.insert(out.end(), opened_.begin() + static_cast<std::ptrdiff_t>(from),
               opened_.begin() + static_cast<std::ptrdiff_t>(to));
    at = plain_[i] + to;
  }
  return out;
}

// The record holding `offset`: the last whose start is at or before it.
size_t SegmentReader::record_of(uint64_t offset) const {
  return static_cast<size_t>(std::upper_bound(plain_.begin(), plain_.end() - 1, offset) -
                             plain_.begin()) -
         1;
}

Result<std::vector<uint8_t>, std::string> SegmentReader::peek(uint64_t offset, uint64_t length) {
  if (!sealed_) return store_.read(store_key_, offset, length);
  if (!key_) return Unexpected(std::string("the recording's key is gone"));
  if (offset >= size()) return std::vector<uint8_t>{};
  const size_t i = record_of(offset);
  const uint64_t within = offset - plain_[i];
  const uint64_t n = std::min(length, plain_[i + 1] - offset);
  const uint64_t stored = plain_[i] + i * keys::kRecordOverhead;
  auto head = store_.read(store_key_, stored, keys::kRecordHead);
  auto cipher = store_.read(store_key_, stored + keys::kRecordHead + within, n);
  if (!head || !cipher) return Unexpected(std::string("the recording cannot be read"));
  if (head->size() != keys::kRecordHead || cipher->size() != n ||
      keys::record_plain_size(*head) != plain_[i + 1] - plain_[i]) {
    return Unexpected(std::string("a sealed record is damaged"));
  }
  std::vector<uint8_t> out;
  keys::peek_record(*key_, *head, within, *cipher, out);
  return out;
}

std::shared_ptr<SegmentReader> open_segment(Store& store, const Segment& segment,
                                            const KeyLookup& keys) {
  std::optional<keys::Key> key;
  if (segment.key_generation && keys) {
    auto found = keys(segment.device_id, false);
    if (found && found->generation == *segment.key_generation) key = found->key;
  }
  return std::make_shared<SegmentReader>(store, segment, key);
}

}  // namespace nj::recording
