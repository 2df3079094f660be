// What a gateway sends on its LAN camera's ONVIF back-channel, made from the 8 kHz µ-law the
// cloud passes on: the same samples (PCMU), G.711 to G.711 (PCMA, a table), or, for a camera
// whose back-channel takes only AAC or Opus, an encoding (libavcodec's AAC encoder, libopus),
// each at the rate and channels the camera's SDP names. Packets come out as RTP, in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "media/sdp/sdp.h"

namespace nj::cam {

class BackchannelEncoder {
 public:
  using Sink = std::function<void(std::span<const uint8_t> packet)>;
  virtual ~BackchannelEncoder() = default;
  // For the camera's a=sendonly audio section; null if its codec or rate is not one we make.
  static std::unique_ptr<BackchannelEncoder> make(const media::sdp::Media& section);
  // Whether make() would take this section (its encoding and rate; no encoder is opened).
  static bool takes(const media::sdp::Media& section);
  // 8 kHz µ-law samples, in order; each RTP packet ready to send goes to the sink.
  virtual void encode(std::span<const uint8_t> ulaw, const Sink& sink) = 0;
  virtual std::string name() const = 0;  // PCMU, PCMA, AAC, Opus
};

// Linear interpolation from 8 kHz to another rate, carried across calls (for speech to a
// speaker, nothing finer is needed).
class Upsampler {
 public:
  explicit Upsampler(uint32_t rate) : rate_(rate) {}
  void push(std::span<const int16_t> in, std::vector<int16_t>& out);

 private:
  uint32_t rate_;
  uint64_t position_ = 0;  // the next output sample, in units of 1/rate_ seconds
  uint64_t consumed_ = 0;  // input samples seen before this call
  int16_t last_ = 0;       // the last input sample of the previous call
};

}  // namespace nj::cam
