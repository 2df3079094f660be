#include "talk_codec.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <vector>

#include "libav.h"
#include "media/codec/audio.h"
#include "media/rtp/aac.h"
#include "media/rtp/audio.h"

namespace nj::cam {
namespace {

constexpr uint32_t kSsrc = 0x4e4a5442;  // "NJTB"

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string fmtp(const media::sdp::Media& m, const std::string& key) {
  auto it = m.fmtp.find(key);
  return it == m.fmtp.end() ? std::string() : it->second;
}

// The rates an AAC AudioSpecificConfig can name by index (ISO/IEC 14496-3 Table 1.18).
constexpr std::array<uint32_t, 13> kAacRates = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                                22050, 16000, 12000, 11025, 8000,  7350};

// An AAC section we can send to: AAC-hbr (13-bit sizes, as our packetizer writes), AAC-LC
// (object type 2) if the config says, a rate of at least 8 kHz, mono or stereo.
bool aac_ok(const media::sdp::Media& m) {
  if (std::find(kAacRates.begin(), kAacRates.end(), m.clock_rate) == kAacRates.end() ||
      m.clock_rate < 8000 || m.channels < 1 || m.channels > 2) {
    return false;
  }
  const auto mode = fmtp(m, "mode");
  const auto size_length = fmtp(m, "sizelength");
  if ((!mode.empty() && !iequals(mode, "AAC-hbr")) ||
      (!size_length.empty() && size_length != "13")) {
    return false;
  }
  const auto config = fmtp(m, "config");  // hex; its first 5 bits are the object type
  if (config.size() >= 2) {
    const auto hex = [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
             : std::isxdigit(static_cast<unsigned char>(c))
                 ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                 : -1;
    };
    const int high = hex(config[0]), low = hex(config[1]);
    if (high < 0 || low < 0 || ((high << 4 | low) >> 3) != 2) return false;
  }
  return true;
}

class G711Encoder final : public BackchannelEncoder {
 public:
  G711Encoder(bool alaw, uint8_t payload_type) : alaw_(alaw), packetizer_(payload_type, kSsrc, 1) {}
  void encode(std::span<const uint8_t> ulaw, const Sink& sink) override {
    samples_.assign(ulaw.begin(), ulaw.end());
    if (alaw_) {
      for (auto& b : samples_) b = media::codec::pcm_to_alaw(media::codec::ulaw_to_pcm(b));
    }
    packetizer_.packetize(samples_, timestamp_, sink);
    timestamp_ += static_cast<uint32_t>(samples_.size());
  }
  std::string name() const override { return alaw_ ? "PCMA" : "PCMU"; }

 private:
  bool alaw_;
  media::rtp::FramePacketizer packetizer_;
  std::vector<uint8_t> samples_;
  uint32_t timestamp_ = 0;
};

// AAC-LC (libavcodec's own encoder) at the section's rate and channels, or Opus (libopus,
// 8 kHz in, the RTP clock at 48 kHz as RFC 7587 has it). 20 ms Opus packets; AAC frames of
// 1,024 samples.
class LibavEncoder final : public BackchannelEncoder {
 public:
  static std::unique_ptr<LibavEncoder> open(const media::sdp::Media& m, bool opus) {
    const AVCodec* codec =
        opus ? avcodec_find_encoder_by_name("libopus") : avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!codec) {
      spdlog::warn("cam.talk.no_encoder codec={}", opus ? "opus" : "aac");
      return nullptr;
    }
    std::unique_ptr<LibavEncoder> e(new LibavEncoder(m, opus));
    e->context_.reset(avcodec_alloc_context3(codec));
    auto* c = e->context_.get();
    c->sample_rate = static_cast<int>(e->rate_);
    c->time_base = {1, c->sample_rate};
    av_channel_layout_default(&c->ch_layout, e->channels_);
    c->bit_rate = opus ? 16000 : 24000 * e->channels_;
    // The first format among those both sides know.
    c->sample_fmt = AV_SAMPLE_FMT_NONE;
    for (const auto* f = codec->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; ++f) {
      if (*f == AV_SAMPLE_FMT_FLTP || *f == AV_SAMPLE_FMT_FLT || *f == AV_SAMPLE_FMT_S16) {
        c->sample_fmt = *f;
        break;
      }
    }
    if (c->sample_fmt == AV_SAMPLE_FMT_NONE) return nullptr;
    if (opus) {
      av_opt_set(c->priv_data, "application", "voip", 0);
      av_opt_set(c->priv_data, "frame_duration", "20", 0);
    }
    if (int rc = avcodec_open2(c, codec, nullptr); rc < 0) {
      spdlog::warn("cam.talk.encoder_failed codec={} error=\"{}\"", e->name(), av::error_text(rc));
      return nullptr;
    }
    e->frame_.reset(av_frame_alloc());
    e->frame_->format = c->sample_fmt;
    e->frame_->nb_samples = c->frame_size > 0 ? c->frame_size : static_cast<int>(e->rate_ / 50);
    e->frame_->sample_rate = c->sample_rate;
    av_channel_layout_copy(&e->frame_->ch_layout, &c->ch_layout);
    if (av_frame_get_buffer(e->frame_.get(), 0) < 0) return nullptr;
    e->packet_.reset(av_packet_alloc());
    return e;
  }

  void encode(std::span<const uint8_t> ulaw, const Sink& sink) override {
    pcm8k_.clear();
    for (uint8_t u : ulaw) pcm8k_.push_back(media::codec::ulaw_to_pcm(u));
    upsampler_.push(pcm8k_, pending_);
    const auto n = static_cast<size_t>(frame_->nb_samples);
    size_t used = 0;
    for (; pending_.size() - used >= n; used += n) {
      if (av_frame_make_writable(frame_.get()) < 0) break;
      fill(std::span<const int16_t>(pending_).subspan(used, n));
      frame_->pts = next_pts_;
      next_pts_ += static_cast<int64_t>(n);
      if (avcodec_send_frame(context_.get(), frame_.get()) < 0) break;
      while (avcodec_receive_packet(context_.get(), packet_.get()) == 0) {
        const auto timestamp = static_cast<uint32_t>(packet_->pts * rtp_per_sample_);
        const std::span<const uint8_t> data(packet_->data, static_cast<size_t>(packet_->size));
        if (opus_) {
          frames_.packetize(data, timestamp, sink);
        } else {
          aac_.packetize(data, timestamp, sink);
        }
        av_packet_unref(packet_.get());
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  std::string name() const override { return opus_ ? "Opus" : "AAC"; }

 private:
  LibavEncoder(const media::sdp::Media& m, bool opus)
      : opus_(opus),
        rate_(opus ? 8000 : m.clock_rate),
        channels_(opus ? 1 : m.channels),
        rtp_per_sample_(opus ? 6 : 1),
        upsampler_(rate_),
        frames_(static_cast<uint8_t>(m.payload_type), kSsrc, 1),
        aac_(static_cast<uint8_t>(m.payload_type), kSsrc, 1) {}

  // One frame's samples, in the encoder's format, the same on every channel.
  void fill(std::span<const int16_t> in) {
    const int format = frame_->format;
    for (int ch = 0; ch < channels_; ++ch) {
      for (size_t i = 0; i < in.size(); ++i) {
        const float f = static_cast<float>(in[i]) / 32768.0f;
        if (format == AV_SAMPLE_FMT_FLTP) {
          reinterpret_cast<float*>(frame_->data[ch])[i] = f;
        } else if (format == AV_SAMPLE_FMT_FLT) {
          reinterpret_cast<float*>(frame_->data[0])[i * channels_ + ch] = f;
        } else {
          reinterpret_cast<int16_t*>(frame_->data[0])[i * channels_ + ch] = in[i];
        }
      }
    }
  }

  bool opus_;
  uint32_t rate_;
  int channels_;
  int64_t rtp_per_sample_;
  Upsampler upsampler_;
  av::Context context_;
  av::Frame frame_;
  av::Packet packet_;
  media::rtp::FramePacketizer frames_;
  media::rtp::AacPacketizer aac_;
  std::vector<int16_t> pcm8k_, pending_;
  int64_t next_pts_ = 0;
};

}  // namespace

void Upsampler::push(std::span<const int16_t> in, std::vector<int16_t>& out) {
  const uint64_t end = consumed_ + in.size();  // input samples seen after this call
  const auto at = [&](uint64_t j) -> int { return j < consumed_ ? last_ : in[j - consumed_]; };
  for (;;) {
    // Output sample position_ falls at input time position_ · 8000 / rate_.
    const uint64_t scaled = position_ * 8000;
    const uint64_t i = scaled / rate_;
    if (i + 1 >= end) break;  // its right-hand neighbour has not come yet
    const int a = at(i), b = at(i + 1);
    const auto frac = static_cast<int64_t>(scaled % rate_);
    out.push_back(static_cast<int16_t>(a + (b - a) * frac / static_cast<int64_t>(rate_)));
    ++position_;
  }
  if (!in.empty()) {
    last_ = in.back();
    consumed_ = end;
  }
}

bool BackchannelEncoder::takes(const media::sdp::Media& m) {
  if (m.type != "audio" || m.payload_type < 0 || m.payload_type > 127) return false;
  if (iequals(m.encoding, "PCMU") || iequals(m.encoding, "PCMA")) return m.clock_rate == 8000;
  if (iequals(m.encoding, "opus")) return m.clock_rate == 48000;
  if (iequals(m.encoding, "MPEG4-GENERIC")) return aac_ok(m);
  return false;
}

std::unique_ptr<BackchannelEncoder> BackchannelEncoder::make(const media::sdp::Media& m) {
  if (!takes(m)) return nullptr;
  const auto pt = static_cast<uint8_t>(m.payload_type);
  if (iequals(m.encoding, "PCMU")) return std::make_unique<G711Encoder>(false, pt);
  if (iequals(m.encoding, "PCMA")) return std::make_unique<G711Encoder>(true, pt);
  return LibavEncoder::open(m, iequals(m.encoding, "opus"));
}

}  // namespace nj::cam
