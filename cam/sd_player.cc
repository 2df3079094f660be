#include "sd_player.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

namespace nj::cam {
namespace {

constexpr uint64_t kMaxFileBytes = 1ull << 30;  // a minute of 4K fits many times over

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<SdPlayer>, std::string> SdPlayer::start(net::IoPool& pool,
                                                               media::hub::Hub& hub,
                                                               SdPlayOptions options) {
  std::unique_ptr<SdPlayer> p(new SdPlayer(std::move(options)));
  std::error_code ec;
  const auto size = std::filesystem::file_size(p->options_.file, ec);
  if (ec) return Unexpected(std::string("no such recording"));
  if (size > kMaxFileBytes) return Unexpected(std::string("the recording is too large to play"));
  p->bytes_.resize(size);
  std::ifstream in(p->options_.file, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(p->bytes_.data()), static_cast<std::streamsize>(size))) {
    return Unexpected(std::string("the recording cannot be read"));
  }
  // A file cut short (power lost while recording) plays up to its last whole fragment.
  const auto demuxed = media::fmp4::demux(p->bytes_);
  if (demuxed.fragments.empty()) return Unexpected(std::string("the recording holds no media"));
  auto tracks = media::fmp4::replay_tracks(demuxed.init);
  if (!tracks) return Unexpected("the recording cannot be played: " + tracks.error());
  p->tracks_ = std::move(*tracks);

  size_t at = demuxed.complete;
  for (const auto& f : demuxed.fragments) at -= f.size;  // the end of the init segment
  std::optional<int64_t> origin;                         // the first video frame, µs
  for (const auto& f : demuxed.fragments) {
    for (const auto& s : f.samples) {
      const bool video = s.track_id == p->tracks_.video_track;
      if (!video && s.track_id != p->tracks_.audio_track) continue;
      const uint32_t scale = video ? p->tracks_.video_timescale : p->tracks_.audio_timescale;
      const int64_t us =
          static_cast<int64_t>(static_cast<__int128>(s.decode_time) * 1'000'000 / scale);
      if (video && !origin) origin = us;
      p->entries_.push_back({us, at, static_cast<size_t>(f.size), s});
    }
    at += f.size;
  }
  if (!origin) return Unexpected(std::string("the recording has no video"));
  for (auto& e : p->entries_) e.time_us -= *origin;
  std::stable_sort(p->entries_.begin(), p->entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.time_us < b.time_us; });
  // Audio before the first picture cannot be shown with it.
  std::erase_if(p->entries_, [](const Entry& e) { return e.time_us < 0; });
  p->duration_ms_ = p->entries_.empty() ? 0 : p->entries_.back().time_us / 1000;
  // Start at the last keyframe at or before the offset (the first one if none).
  const int64_t target_us = std::clamp<int64_t>(p->options_.offset_ms, 0, p->duration_ms_) * 1000;
  for (size_t i = 0; i < p->entries_.size(); ++i) {
    const auto& e = p->entries_[i];
    if (e.time_us > target_us) break;
    if (e.sample.track_id == p->tracks_.video_track && e.sample.keyframe) p->first_ = i;
  }
  if (!(p->entries_[p->first_].sample.track_id == p->tracks_.video_track &&
        p->entries_[p->first_].sample.keyframe)) {
    return Unexpected(std::string("the recording has no keyframe"));
  }
  p->start_ms_ = p->entries_[p->first_].time_us / 1000;

  auto publisher = hub.publish(p->options_.local_path, p->tracks_.info);
  if (!publisher) return Unexpected(std::string("another playback is still running"));
  media::rtsp::PushOptions push;
  push.url = p->options_.push_url;
  push.path = p->options_.local_path;
  push.backoff = {std::chrono::milliseconds(300), std::chrono::milliseconds(3000)};
  p->thread_ = std::thread([self = p.get(), publisher = std::move(*publisher)]() mutable {
    self->run(std::move(publisher));
  });
  p->pusher_ = std::make_unique<media::rtsp::Pusher>(pool, hub, push);
  return p;
}

SdPlayer::~SdPlayer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
  pusher_.reset();
}

uint64_t SdPlayer::bytes_sent() const { return pusher_ ? pusher_->status().bytes : 0; }

void SdPlayer::run(std::unique_ptr<media::hub::Publisher> publisher) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t first_us = entries_[first_].time_us;
  const int64_t recorded_us = options_.recorded_at_ms * 1000;
  for (size_t i = first_; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    {
      std::unique_lock lock(mu_);
      if (stop_.wait_until(lock, started + std::chrono::microseconds(e.time_us - first_us),
                           [this] { return stopping_; })) {
        return;
      }
    }
    auto frame = media::fmp4::replay_frame(
        tracks_, e.sample,
        std::span<const uint8_t>(bytes_).subspan(e.fragment_at, e.fragment_size));
    if (!frame) continue;
    frame->received_at_us = steady_us();
    frame->capture_us = recorded_us + e.time_us;  // the recording's own clock: tracks line up
    if (!publisher->publish(std::make_shared<const media::hub::Frame>(std::move(*frame)))) break;
  }
  // The end: the stream ends, and the pusher closes its connection once it has sent it all.
  publisher.reset();
  finished_ = true;
  spdlog::info("cam.sd.play.end file={}", options_.file.filename().string());
}

}  // namespace nj::cam
