// Cloud recordings of a device (issue #6), for its owner and those it is shared with as
// family or admin, checked on every request:
//   GET /api/v1/devices/{id}/recordings?from&to        {"spans","gaps","plan"}
//   GET /api/v1/devices/{id}/playback.m3u8?from&to     HLS VOD: byte ranges of the segments'
//       plain MP4s, starting at the keyframe at or before `from`, with EXT-X-START at
//       `from` exactly
//   GET /api/v1/devices/{id}/recordings/{segment}.mp4  a segment as its plain MP4, with Range
//   GET /api/v1/devices/{id}/clip.mp4?from&to          a standard MP4 of up to 24 hours,
//       starting at `from` exactly (edit lists), with Range
// Files and clips are streamed from the store a piece at a time (never whole in memory),
// opening only the sealed records a piece covers (recording/sealed.h); a download stops
// when the person's access ends.
// Times are RFC 3339 or Unix milliseconds.
#pragma once

#include "api/guard.h"
#include "audit/trail.h"
#include "device/service.h"
#include "http/router.h"
#include "recording/catalog.h"
#include "recording/plans.h"
#include "recording/recorder.h"
#include "recording/sealed.h"
#include "recording/store.h"

namespace nj::api {

class RecordingsApi {
 public:
  RecordingsApi(device::DeviceService& devices, const Guard& guard, recording::Catalog& catalog,
                recording::Store& store, recording::KeyLookup keys, recording::Plans& plans,
                const Clock& clock)
      : devices_(devices),
        guard_(guard),
        catalog_(catalog),
        store_(store),
        keys_(std::move(keys)),
        plans_(plans),
        clock_(clock) {}
  void install(http::Router& router);
  // What the device's recorder is doing (nullopt: none runs), for `recorder` in the list:
  // recording, waiting for the camera, or paused (reason "storage": full or failing).
  using RecorderStatus =
      std::function<std::optional<recording::RecorderStats>(const std::string& device_id)>;
  void set_recorder_status(RecorderStatus status) { recorder_status_ = std::move(status); }

  // Where the accesses this API opens are logged (the access transparency log).
  void set_trail(audit::Trail trail) { trail_ = std::move(trail); }

 private:
  audit::Trail trail_;
  void log_access(const http::Request& r, const device::Device& d, const char* kind);
  // Whether the person making r may still download this device's recordings.
  std::function<bool()> still_allowed(const http::Request& r, const std::string& device_id) const;

  device::DeviceService& devices_;
  const Guard& guard_;
  recording::Catalog& catalog_;
  recording::Store& store_;
  recording::KeyLookup keys_;  // opens sealed segments
  recording::Plans& plans_;
  const Clock& clock_;
  RecorderStatus recorder_status_;
};

// The playlist for [from_ms, to_ms) of these segments (by start); `uri` names a segment's
// file for the playlist. Empty when nothing is recorded there.
std::string playback_playlist(const std::vector<recording::Segment>& segments, int64_t from_ms,
                              int64_t to_ms,
                              const std::function<std::string(const recording::Segment&)>& uri);

// A download's body, streamed a piece at a time from read(at, n) (bytes [first, first +
// length) of the resource). Before each piece it asks allowed(): a share revoked or the
// camera unbound ends a download at once, as it ends live view. A short read ends it too.
std::shared_ptr<http::BodySource> streamed_download(
    uint64_t first, uint64_t length, std::function<bool()> allowed,
    std::function<std::optional<std::vector<uint8_t>>(uint64_t at, uint64_t n)> read);

// A single "bytes=" range of a resource of `size` bytes: [first, last]. nullopt when the
// header is absent; an error when it cannot be satisfied.
struct ByteRange {
  uint64_t first = 0, last = 0;
};
Result<std::optional<ByteRange>, std::string> parse_range(std::optional<std::string_view> header,
                                                          uint64_t size);

}  // namespace nj::api
