#include "media/hls/live_hls.h"

#include <cmath>
#include <cstdio>

namespace nj::media::hls {
namespace {

constexpr int64_t kClock = 90000;

std::string seconds(int64_t ticks) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ticks) / kClock);
  return buf;
}

void append(std::string& out, const std::vector<std::shared_ptr<const fmp4::LiveFragment>>& f) {
  for (const auto& fragment : f) {
    out.append(reinterpret_cast<const char*>(fragment->bytes.data()), fragment->bytes.size());
  }
}

}  // namespace

void LiveHls::close_part(int64_t end) {
  auto& part = segments_.back().parts.back();
  part.duration = end - part.start;
  part.complete = true;
}

void LiveHls::push(const hub::Frame& frame, std::shared_ptr<const fmp4::LiveFragment> fragment) {
  if (!fragment || !fragment->init || fragment->bytes.empty()) return;
  const bool video = frame.track == hub::TrackKind::kVideo;
  const bool keyframe = video && frame.keyframe;
  if (segments_.empty()) {
    if (!keyframe) return;  // a playlist starts at a keyframe
    init_ = fragment->init;
    Segment first;
    first.start = frame.timestamp;
    first.parts.push_back(Part{{}, frame.timestamp, 0, true, false});
    segments_.push_back(std::move(first));
    last_video_ts_ = frame.timestamp;
  } else if (video) {
    const int64_t ts = frame.timestamp;
    if (ts <= last_video_ts_) return;  // repeated or out of order: never go back in time
    const int64_t step = ts - last_video_ts_;
    auto& segment = segments_.back();
    auto& part = segment.parts.back();
    const auto part_target = static_cast<int64_t>(options_.part_target_seconds * kClock);
    const auto min_segment = static_cast<int64_t>(options_.min_segment_seconds * kClock);
    if (keyframe && ts - segment.start >= min_segment) {
      close_part(ts);
      segment.duration = ts - segment.start;
      segment.complete = true;
      max_segment_ticks_ = std::max(max_segment_ticks_, segment.duration);
      Segment next;
      next.start = ts;
      next.parts.push_back(Part{{}, ts, 0, true, false});
      segments_.push_back(std::move(next));
      while (segments_.size() > options_.window_segments + 1) {
        segments_.pop_front();
        ++first_msn_;
      }
    } else if (keyframe || (!part.fragments.empty() && ts - part.start + step > part_target)) {
      // A part never outgrows the target: it ends before the frame that would overfill it.
      close_part(ts);
      segment.parts.push_back(Part{{}, ts, 0, keyframe, false});
    }
    last_video_ts_ = ts;
    if (fragment->init != init_) init_ = fragment->init;  // new parameter sets
  }
  segments_.back().parts.back().fragments.push_back(std::move(fragment));
}

std::string LiveHls::uri(std::string_view name, std::string_view query) const {
  std::string out = "hls/";
  out += name;
  out += query;
  return out;
}

bool LiveHls::available(int64_t msn, int part) const {
  const int64_t i = msn - first_msn_;
  if (i < 0 || i >= static_cast<int64_t>(segments_.size())) return false;
  const auto& segment = segments_[static_cast<size_t>(i)];
  if (part < 0) return segment.complete;
  return static_cast<size_t>(part) < segment.parts.size() && segment.parts[part].complete;
}

bool LiveHls::too_old(int64_t msn) const { return msn < first_msn_; }

std::optional<std::string> LiveHls::init() const {
  if (!init_) return std::nullopt;
  return std::string(init_->bytes.begin(), init_->bytes.end());
}

std::optional<std::string> LiveHls::segment(int64_t msn) const {
  if (!available(msn, -1)) return std::nullopt;
  std::string out;
  for (const auto& part : segments_[static_cast<size_t>(msn - first_msn_)].parts) {
    append(out, part.fragments);
  }
  return out;
}

std::optional<std::string> LiveHls::part(int64_t msn, int part) const {
  if (part < 0 || !available(msn, part)) return std::nullopt;
  std::string out;
  append(out, segments_[static_cast<size_t>(msn - first_msn_)].parts[part].fragments);
  return out;
}

std::string LiveHls::playlist(std::string_view query) const {
  if (segments_.empty() || !available(first_msn_, -1)) return {};
  const int64_t target = std::max<int64_t>(
      {1, static_cast<int64_t>(std::ceil(static_cast<double>(max_segment_ticks_) / kClock)),
       static_cast<int64_t>(std::ceil(options_.min_segment_seconds))});
  char part_target[64];
  std::snprintf(part_target, sizeof part_target, "%.3f", options_.part_target_seconds);
  char hold_back[64];
  std::snprintf(hold_back, sizeof hold_back, "%.3f", options_.part_target_seconds * 3);
  std::string out =
      "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:" + std::to_string(target) +
      "\n#EXT-X-PART-INF:PART-TARGET=" + part_target +
      "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" + hold_back +
      "\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first_msn_) +
      "\n#EXT-X-MAP:URI=\"" + uri("init.mp4", query) + "\"\n";
  const size_t with_parts_from = segments_.size() > options_.segments_with_parts
                                     ? segments_.size() - options_.segments_with_parts
                                     : 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& segment = segments_[i];
    const int64_t msn = first_msn_ + static_cast<int64_t>(i);
    if (i >= with_parts_from) {
      for (size_t k = 0; k < segment.parts.size(); ++k) {
        const auto& part = segment.parts[k];
        if (!part.complete) break;
        out += "#EXT-X-PART:DURATION=" + seconds(part.duration) + ",URI=\"" +
               uri("p" + std::to_string(msn) + "." + std::to_string(k) + ".m4s", query) + "\"" +
               (part.independent ? ",INDEPENDENT=YES" : "") + "\n";
      }
    }
    if (segment.complete) {
      out += "#EXTINF:" + seconds(segment.duration) + ",\n" +
             uri("s" + std::to_string(msn) + ".m4s", query) + "\n";
    } else {
      // The part being made: players may ask for it now and get it when it is complete.
      out +=
          "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" +
          uri("p" + std::to_string(msn) + "." + std::to_string(segment.parts.size() - 1) + ".m4s",
              query) +
          "\"\n";
    }
  }
  return out;
}

}  // namespace nj::media::hls
