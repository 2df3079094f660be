// Live HLS with low-latency parts (RFC 8216 and its LL-HLS extension, fMP4): a window of
// segments cut at keyframes, each made of parts of at most the part target, built from the
// stream's shared fMP4 fragments (one moof + mdat per frame, no copies until served), and
// the media playlist that lists them. No I/O: frames in, playlist text and bytes out.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/fmp4/live.h"
#include "media/hub/hub.h"

namespace nj::media::hls {

struct Options {
  double part_target_seconds = 0.5;
  double min_segment_seconds = 1.0;  // a keyframe starts a segment once this much is in one
  size_t window_segments = 6;        // complete segments kept and listed
  size_t segments_with_parts = 3;    // the newest segments also list their parts
};

class LiveHls {
 public:
  explicit LiveHls(Options options = {}) : options_(options) {}

  // The next frame of the stream, with its packaged fragment. Frames before the first
  // keyframe, or without an init segment, are left out.
  void push(const hub::Frame& frame, std::shared_ptr<const fmp4::LiveFragment> fragment);

  // The media playlist; query (e.g. "?token=…") is appended to every URI. Empty until the
  // first segment is complete (players that do not know parts need a whole segment).
  std::string playlist(std::string_view query) const;

  // Is segment msn complete (part < 0), or its part complete?
  bool available(int64_t msn, int part) const;
  // A blocking request may wait for this (up to about one segment ahead); further is an error.
  bool reachable(int64_t msn) const { return msn <= next_msn() + 1; }
  bool too_old(int64_t msn) const;

  // The bytes of the init segment, a segment or a part; nullopt if not (or no longer) there.
  std::optional<std::string> init() const;
  std::optional<std::string> segment(int64_t msn) const;
  std::optional<std::string> part(int64_t msn, int part) const;

  int64_t first_msn() const { return first_msn_; }
  int64_t next_msn() const { return first_msn_ + static_cast<int64_t>(segments_.size()) - 1; }
  const Options& options() const { return options_; }

 private:
  struct Part {
    std::vector<std::shared_ptr<const fmp4::LiveFragment>> fragments;
    int64_t start = 0;     // first video timestamp (90 kHz)
    int64_t duration = 0;  // known once complete
    bool independent = false;
    bool complete = false;
  };
  struct Segment {
    std::vector<Part> parts;
    int64_t start = 0;
    int64_t duration = 0;
    bool complete = false;
  };
  void close_part(int64_t end);
  std::string uri(std::string_view name, std::string_view query) const;

  Options options_;
  std::shared_ptr<const fmp4::LiveInit> init_;
  std::deque<Segment> segments_;  // the last one is in progress
  int64_t first_msn_ = 0;
  int64_t last_video_ts_ = -1;
  int64_t max_segment_ticks_ = 0;
};

}  // namespace nj::media::hls
