#include "talk.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>

#include "media/rtp/packet.h"
#include "media/rtsp/client_io.h"
#include "media/sdp/sdp.h"

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
