#include "talk.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "media/rtp/packet.h"
#include "media/rtsp/client_io.h"
#include "media/sdp/sdp.h"
#include "talk_codec.h"

namespace nj::cam {

WavSpeaker::~WavSpeaker() { end(); }

void WavSpeaker::write_header() {
  // RIFF, "WAVE", fmt (18 bytes: µ-law, mono, 8 kHz, 8 bits), fact, data.
  const auto le32 = [](uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  };
  const auto le16 = [](uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
  };
  uint8_t h[58] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' '};
  le32(h + 4, 50 + samples_);
  le32(h + 16, 18);
  le16(h + 20, 7);  // WAVE_FORMAT_MULAW
  le16(h + 22, 1);
  le32(h + 24, 8000);
  le32(h + 28, 8000);
  le16(h + 32, 1);
  le16(h + 34, 8);
  le16(h + 36, 0);
  std::memcpy(h + 38, "fact", 4);
  le32(h + 42, 4);
  le32(h + 46, samples_);
  std::memcpy(h + 50, "data", 4);
  le32(h + 54, samples_);
  std::fseek(file_, 0, SEEK_SET);
  std::fwrite(h, 1, sizeof h, file_);
  std::fseek(file_, 0, SEEK_END);
}

void WavSpeaker::begin() {
  std::lock_guard lock(mu_);
  if (file_) std::fclose(file_);
  file_ = std::fopen(path_.c_str(), "w+b");
  samples_ = 0;
  if (file_) write_header();
}

void WavSpeaker::play(std::span<const uint8_t> ulaw) {
  std::lock_guard lock(mu_);
  if (!file_) return;
  std::fwrite(ulaw.data(), 1, ulaw.size(), file_);
  samples_ += static_cast<uint32_t>(ulaw.size());
  write_header();
  std::fflush(file_);
}

void WavSpeaker::end() {
  std::lock_guard lock(mu_);
  if (!file_) return;
  std::fclose(file_);
  file_ = nullptr;
}

struct BackchannelSpeaker::Link {
  std::shared_ptr<media::rtsp::ClientLink> link;
  std::mutex mu;
  int track = -1;                               // the back-channel's media section
  std::unique_ptr<BackchannelEncoder> encoder;  // what it takes
  bool ready = false;                           // PLAY answered: audio may go
  bool closed = false;                          // failed or dropped: a new session is needed
};

BackchannelSpeaker::~BackchannelSpeaker() { end(); }

void BackchannelSpeaker::begin() {
  end();
  std::lock_guard lock(mu_);
  in_call_ = true;
  failures_ = 0;
  open_locked();
}

void BackchannelSpeaker::open_locked() {
  link_.reset();
  // The next try, should this one fail: 0.5, 1, 2, then every 4 s.
  next_open_ =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(500 << std::min(failures_, 3));
  ++failures_;
  auto parsed = media::rtsp::parse_client_url(url_);
  if (!parsed) return;
  auto link = std::make_shared<Link>();
  std::weak_ptr<Link> weak = link;
  media::rtsp::LinkHooks hooks;
  // The section the client sends on: a=sendonly audio in a codec we can make. The camera's
  // other sections are set up too (and what they bring is dropped): GStreamer's ONVIF server,
  // which many camera firmwares are built on, stops a session's whole pipeline when a stream
  // of it is left out (its source fails "not-linked"), back-channel and all.
  hooks.described = [weak](const media::sdp::Session& s) -> std::vector<int> {
    auto self = weak.lock();
    if (!self) return {};
    int chosen = -1;
    std::vector<int> tracks;
    for (size_t i = 0; i < s.media.size(); ++i) {
      const auto& m = s.media[i];
      bool sendonly = false;
      for (const auto& [name, value] : m.attributes) sendonly = sendonly || name == "sendonly";
      if (!sendonly) {
        if (m.type == "video" || m.type == "audio") tracks.push_back(static_cast<int>(i));
        continue;
      }
      if (chosen >= 0 || !BackchannelEncoder::takes(m)) continue;
      auto encoder = BackchannelEncoder::make(m);
      if (!encoder) continue;
      spdlog::info("cam.talk.backchannel codec={} rate={}", encoder->name(), m.clock_rate);
      chosen = static_cast<int>(i);
      tracks.push_back(chosen);
      std::lock_guard lock(self->mu);
      self->track = chosen;
      self->encoder = std::move(encoder);
    }
    if (chosen < 0) {
      spdlog::warn("cam.talk.no_backchannel");
      return {};
    }
    return tracks;
  };
  hooks.ready = [weak] {
    if (auto self = weak.lock()) {
      spdlog::info("cam.talk.backchannel_playing");
      std::lock_guard lock(self->mu);
      self->ready = true;
    }
  };
  hooks.closed = [weak](const std::string& why) {
    auto self = weak.lock();
    if (!self) return;  // the call ended it
    spdlog::warn("cam.talk.backchannel_closed why=\"{}\"", why);
    std::lock_guard lock(self->mu);
    self->closed = true;
    self->ready = false;
  };
  media::rtsp::LinkOptions options;
  options.require = "www.onvif.org/ver20/backchannel";
  options.play_range.clear();  // live: no position to seek to
  // Only we send on this session: the camera's silence is not its end (the call's end is).
  options.media_timeout = std::chrono::hours(24);
  link->link = media::rtsp::ClientLink::open(
      pool_, std::move(*parsed), media::rtsp::ClientSession::Mode::kPlay, hooks, {}, options);
  link_ = std::move(link);
}

void BackchannelSpeaker::play(std::span<const uint8_t> ulaw) {
  std::shared_ptr<Link> link;
  {
    std::lock_guard lock(mu_);
    if (!in_call_) return;
    bool closed = !link_;
    if (link_) {
      std::lock_guard link_lock(link_->mu);
      closed = link_->closed;
      if (link_->ready) failures_ = 0;
    }
    // What is said is the tick that opens the session again once its wait is over.
    if (closed && std::chrono::steady_clock::now() >= next_open_) open_locked();
    link = link_;
  }
  if (!link) return;
  std::vector<std::vector<uint8_t>> packets;
  int track = -1;
  {
    std::lock_guard lock(link->mu);
    // Not playing yet: dropped, as anything said live and not heard.
    if (!link->ready || link->track < 0 || !link->encoder) return;
    track = link->track;
    link->encoder->encode(ulaw, [&](std::span<const uint8_t> packet) {
      packets.emplace_back(packet.begin(), packet.end());
    });
  }
  auto l = link->link;
  l->post([l, track, packets = std::move(packets)] {
    for (const auto& p : packets) l->send_media(track, false, p);
  });
}

void BackchannelSpeaker::end() {
  std::shared_ptr<Link> link;
  {
    std::lock_guard lock(mu_);
    in_call_ = false;
    link = std::move(link_);
  }
  if (link && link->link) link->link->close();
}

struct TalkReceiver::Impl : std::enable_shared_from_this<Impl> {
  Speaker& speaker;
  std::shared_ptr<media::rtsp::ClientLink> link;
  mutable std::mutex mu;
  bool playing = false, ended = false;
  std::atomic<uint64_t> packets{0};
  explicit Impl(Speaker& s) : speaker(s) {}
  void finish(const std::string& why) {
    {
      std::lock_guard lock(mu);
      if (ended) return;
      ended = true;
      playing = false;
    }
    speaker.end();
    spdlog::info("cam.talk.end why=\"{}\" packets={}", why, packets.load());
  }
};

TalkReceiver::TalkReceiver(net::IoPool& pool, const std::string& url, Speaker& speaker)
    : impl_(std::make_shared<Impl>(speaker)) {
  auto parsed = media::rtsp::parse_client_url(url);
  if (!parsed) {
    spdlog::warn("cam.talk.bad_url error=\"{}\"", parsed.error());
    return;
  }
  std::weak_ptr<Impl> weak = impl_;
  media::rtsp::LinkHooks hooks;
  // One PCMU track, or nothing.
  hooks.described = [](const media::sdp::Session& s) -> std::vector<int> {
    if (s.media.size() == 1 && s.media[0].type == "audio" && s.media[0].encoding == "PCMU" &&
        s.media[0].clock_rate == 8000) {
      return {0};
    }
    return {};
  };
  hooks.ready = [weak] {
    if (auto self = weak.lock()) {
      self->speaker.begin();
      std::lock_guard lock(self->mu);
      self->playing = true;
    }
  };
  hooks.media = [weak](int track, bool rtcp, std::span<const uint8_t> packet) {
    auto self = weak.lock();
    if (!self || rtcp || track != 0) return;
    auto p = media::rtp::parse(packet);
    if (!p || p->payload_type != 0 || p->payload.empty()) return;
    ++self->packets;
    self->speaker.play(p->payload);
  };
  hooks.closed = [weak](const std::string& why) {
    if (auto self = weak.lock()) self->finish(why);
  };
  impl_->link = media::rtsp::ClientLink::open(pool, std::move(*parsed),
                                              media::rtsp::ClientSession::Mode::kPlay, hooks);
}

TalkReceiver::~TalkReceiver() {
  if (impl_->link) impl_->link->close();
  impl_->finish("stopped");
}

bool TalkReceiver::playing() const {
  std::lock_guard lock(impl_->mu);
  return impl_->playing;
}

}  // namespace nj::cam
