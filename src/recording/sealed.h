// Recordings sealed at rest (docs/keys.md, docs/recording.md): a sealed segment file is its
// init segment, then each fragment, each one sealed record (keys/records.h) under the key of
// the device's binding, with the device, the segment and the record's index as associated
// data. The index (Catalog) keeps the plain MP4's sizes, which is what playback, byte ranges
// and clips address; SegmentReader maps a plain range to the records that hold it and opens
// only those, so seeking and ranges cost one fragment's decryption, not the file's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "keys/key_store.h"
#include "recording/catalog.h"
#include "recording/store.h"

namespace nj::recording {

// A device's current binding key and its generation.
struct BindingKey {
  int64_t generation = 0;
  keys::Key key{};
};
// The device's current binding key (made if missing when `create`); nullopt when it has no
// owner, or the key is gone. Empty: nothing is sealed (tests of the recorder alone).
using KeyLookup =
    std::function<std::optional<BindingKey>(const std::string& device_id, bool create)>;

// The associated data of record `index` (0: the init segment; i: fragment i-1).
std::string record_context(const std::string& device_id, int64_t segment_id, size_t index);
// The bytes a segment's file holds: its plain size plus the records' overhead.
uint64_t stored_size(const Segment& s);

// Reads a segment's plain bytes, whether the file is sealed or not. Thread-safe; keeps the
// last opened record, so a download read in small pieces opens each record once.
class SegmentReader {
 public:
  // `key` opens a sealed segment; without it (destroyed, or another binding's) a sealed
  // segment cannot be read.
  SegmentReader(Store& store, const Segment& segment, std::optional<keys::Key> key);
  uint64_t size() const { return plain_.back(); }  // the plain MP4's size
  Result<std::vector<uint8_t>, std::string> read(uint64_t offset, uint64_t length);
  // The same bytes, deciphered without checking the records' tags (keys::peek_record): for
  // finding boxes while planning, never for bytes that leave the server. Within one record.
  Result<std::vector<uint8_t>, std::string> peek(uint64_t offset, uint64_t length);

 private:
  size_t record_of(uint64_t offset) const;
  Store& store_;
  std::string store_key_, device_id_;
  int64_t segment_id_ = 0;
  bool sealed_ = false;
  std::optional<keys::Key> key_;
  std::vector<uint64_t> plain_;  // where record i starts in the plain MP4; then its end
  std::mutex mu_;
  size_t cached_ = SIZE_MAX;
  std::vector<uint8_t> opened_;
};

// The reader of a segment, with its key found through `keys` when it is sealed: the key of
// the binding it was written under, and only while that binding lasts.
std::shared_ptr<SegmentReader> open_segment(Store& store, const Segment& segment,
                                            const KeyLookup& keys);

}  // namespace nj::recording
