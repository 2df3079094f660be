// The recording index in the database (docs/recording.md): segment rows with their
// fragment tables, and the queries playback needs (segments over a time range, spans and
// gaps), recovery needs (the open ones) and retention needs (the old ones). Transport-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "recording/fragment_table.h"
#include "store/database.h"

namespace nj::recording {

struct Segment {
  int64_t id = 0;
  std::string device_id, region, store_key, run_id;
  int64_t start_ms = 0, end_ms = 0;
  int64_t start_ticks = 0;
  uint64_t init_size = 0, bytes = 0, media_bytes = 0;
  bool open = true;
  std::vector<FragmentEntry> fragments;
  // Sealed under the key of this binding generation of the device (docs/keys.md); nullopt:
  // a plain file. Sizes and the fragment table are the plain MP4's either way.
  std::optional<int64_t> key_generation;
  std::string writer;  // the node that writes it (Catalog's writer when it was created)
};

struct Span {
  int64_t start_ms = 0, end_ms = 0;
};

class Catalog {
 public:
  // writer: this node's id, recorded with each segment it creates (several nodes).
  explicit Catalog(store::Database& db, std::string writer = {})
      : db_(db), writer_(std::move(writer)) {}

  // A new open segment (no fragments yet); returns its id.
  store::StoreResult<int64_t> create(const Segment& s);
  // Saves a segment's progress (fragments, bytes, end) and, with close, closes it.
  store::StoreResult<void> save(const Segment& s, bool close);
  store::StoreResult<void> remove(int64_t id);
  // The nodes with segments open now (cheap: no fragment tables read).
  std::vector<std::string> open_writers();
  // The segment's file now lives in another region, under `store_key`.
  store::StoreResult<void> relocate(int64_t id, const std::string& region,
                                    const std::string& store_key);

  std::optional<Segment> by_id(int64_t id);
  // A device's segments that overlap [from_ms, to_ms), by start.
  std::vector<Segment> between(const std::string& device_id, int64_t from_ms, int64_t to_ms,
                               bool with_fragments = true);
  std::vector<Segment> open_segments();
  // Segments of a device that ended before `before_ms`.
  std::vector<Segment> ended_before(const std::string& device_id, int64_t before_ms);
  std::vector<Segment> of_device(const std::string& device_id);
  // Devices that have any recording.
  std::vector<std::string> devices_with_media();
  // Bytes stored per device (space accounting).
  uint64_t bytes_of(const std::string& device_id);

 private:
  store::Database& db_;
  std::string writer_;
};

// Spans of continuous recording within [from_ms, to_ms): neighbouring segments of one run
// are joined; everything else in the range is a gap.
std::vector<Span> spans_of(const std::vector<Segment>& segments, int64_t from_ms, int64_t to_ms);
std::vector<Span> gaps_of(const std::vector<Span>& spans, int64_t from_ms, int64_t to_ms);

}  // namespace nj::recording
