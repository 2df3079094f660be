// SDP (RFC 8866) as RTSP uses it: the session and its media sections with their RTP maps,
// format parameters and control URLs; parsing with limits, and writing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::media::sdp {

struct Media {
  std::string type;  // video | audio | application
  uint16_t port = 0;
  std::string protocol;   // RTP/AVP, RTP/AVPF, …
  int payload_type = -1;  // the first format
  std::string encoding;   // from rtpmap: H264, H265, MPEG4-GENERIC, PCMU, PCMA, opus, …
  uint32_t clock_rate = 0;
  int channels = 1;
  std::map<std::string, std::string> fmtp;                      // keys lower-cased
  std::string control;                                          // a=control (relative or absolute)
  std::vector<std::pair<std::string, std::string>> attributes;  // the others, in order
};

struct Session {
  std::string origin = "- 0 0 IN IP4 127.0.0.1";
  std::string name = "Nightjar";
  std::string connection = "IN IP4 0.0.0.0";
  std::string control = "*";
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<Media> media;
};

enum class Error { kTooLarge, kBadLine, kBadMedia, kNoMedia, kBadRtpmap };
std::string_view error_name(Error e);

inline constexpr size_t kMaxSdpBytes = 64 * 1024;
inline constexpr size_t kMaxMedia = 16;

Result<Session, Error> parse(std::string_view text);
std::string write(const Session& session);

// H.264 sprop-parameter-sets ("base64,base64"): the SPS and PPS, if present and valid.
struct H264ParameterSets {
  std::vector<uint8_t> sps, pps;
};
std::optional<H264ParameterSets> h264_parameter_sets(const Media& media);

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);
std::string base64_encode(const std::vector<uint8_t>& data);

}  // namespace nj::media::sdp
