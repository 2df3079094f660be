#include "media/snapshot/jpeg.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <memory>

namespace nj::media::snapshot {
namespace {

struct CodecContextFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextFree>;
using Frame = std::unique_ptr<AVFrame, FrameFree>;
using Packet = std::unique_ptr<AVPacket, PacketFree>;

// libav's own log goes to stderr; failures reach callers as errors instead.
const bool kQuietLibav = [] {
  av_log_set_level(AV_LOG_QUIET);
  return true;
}();

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

void append_annexb(std::vector<uint8_t>& out, std::span<const uint8_t> nal) {
  static constexpr uint8_t kStart[] = {0, 0, 0, 1};
  out.insert(out.end(), std::begin(kStart), std::end(kStart));
  out.insert(out.end(), nal.begin(), nal.end());
}

}  // namespace

namespace {

// The keyframe decoded into a picture of its own size.
Result<Frame, std::string> decode_keyframe(
    VideoCodec codec, std::span<const uint8_t> keyframe,
    std::span<const std::span<const uint8_t>> parameter_sets) {
  (void)kQuietLibav;
  // Annex B for the decoder: the parameter sets first, then the access unit's NAL units.
  std::vector<uint8_t> annexb;
  for (const auto& set : parameter_sets) {
    if (!set.empty()) append_annexb(annexb, set);
  }
  for (size_t at = 0; at < keyframe.size();) {
    if (keyframe.size() - at < 4) return Unexpected(std::string("malformed access unit"));
    const size_t n = (size_t{keyframe[at]} << 24) | (size_t{keyframe[at + 1]} << 16) |
                     (size_t{keyframe[at + 2]} << 8) | keyframe[at + 3];
    at += 4;
    if (n == 0 || n > keyframe.size() - at) return Unexpected(std::string("malformed access unit"));
    append_annexb(annexb, keyframe.subspan(at, n));
    at += n;
  }
  annexb.resize(annexb.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);

  const AVCodec* video =
      avcodec_find_decoder(codec == VideoCodec::kH265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  if (!video) return Unexpected(std::string("no decoder for this codec in libavcodec"));
  CodecContext decoder(avcodec_alloc_context3(video));
  decoder->thread_count = 1;
  if (int rc = avcodec_open2(decoder.get(), video, nullptr); rc < 0) {
    return Unexpected("cannot open the decoder: " + av_error(rc));
  }
  Packet packet(av_packet_alloc());
  packet->data = annexb.data();
  packet->size = static_cast<int>(annexb.size() - AV_INPUT_BUFFER_PADDING_SIZE);
  packet->flags = AV_PKT_FLAG_KEY;
  Frame picture(av_frame_alloc());
  int rc = avcodec_send_packet(decoder.get(), packet.get());
  if (rc < 0) return Unexpected("decode failed: " + av_error(rc));
  avcodec_send_packet(decoder.get(), nullptr);  // drain: one picture in, one out
  rc = avcodec_receive_frame(decoder.get(), picture.get());
  if (rc < 0) return Unexpected("no picture decoded: " + av_error(rc));
  if (picture->width <= 0 || picture->height <= 0 || picture->decode_error_flags != 0) {
    return Unexpected(std::string("the picture is damaged"));
  }
  return picture;
}

// Scaled down (only) to at most max_width, keeping the aspect ratio, even sizes.
void fit(int& width, int& height, uint32_t max_width) {
  if (static_cast<uint32_t>(width) > max_width) {
    height = static_cast<int>(int64_t{height} * max_width / width) & ~1;
    width = static_cast<int>(max_width) & ~1;
  }
}

}  // namespace

Result<GrayPicture, std::string> keyframe_to_gray(
    VideoCodec codec, std::span<const uint8_t> keyframe,
    std::span<const std::span<const uint8_t>> parameter_sets, uint32_t max_width) {
  auto decoded = decode_keyframe(codec, keyframe, parameter_sets);
  if (!decoded) return Unexpected(decoded.error());
  const Frame& picture = *decoded;
  int width = picture->width, height = picture->height;
  fit(width, height, max_width);
  std::unique_ptr<SwsContext, SwsFree> scaler(
      sws_getContext(picture->width, picture->height, static_cast<AVPixelFormat>(picture->format),
                     width, height, AV_PIX_FMT_GRAY8, SWS_AREA, nullptr, nullptr, nullptr));
  if (!scaler) return Unexpected(std::string("cannot convert the picture"));
  GrayPicture out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height);
  uint8_t* planes[4] = {out.pixels.data(), nullptr, nullptr, nullptr};
  int strides[4] = {width, 0, 0, 0};
  sws_scale(scaler.get(), picture->data, picture->linesize, 0, picture->height, planes, strides);
  return out;
}

Result<std::string, std::string> keyframe_to_jpeg(
    VideoCodec codec, std::span<const uint8_t> keyframe,
    std::span<const std::span<const uint8_t>> parameter_sets, const JpegOptions& options) {
  auto decoded = decode_keyframe(codec, keyframe, parameter_sets);
  if (!decoded) return Unexpected(decoded.error());
  const Frame& picture = *decoded;
  int rc = 0;

  // Scale (down only) into full-range 4:2:0, which the JPEG encoder takes.
  int width = picture->width, height = picture->height;
  fit(width, height, options.max_width);
  std::unique_ptr<SwsContext, SwsFree> scaler(
      sws_getContext(picture->width, picture->height, static_cast<AVPixelFormat>(picture->format),
                     width, height, AV_PIX_FMT_YUVJ420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!scaler) return Unexpected(std::string("cannot convert the picture"));
  Frame scaled(av_frame_alloc());
  scaled->format = AV_PIX_FMT_YUVJ420P;
  scaled->width = width;
  scaled->height = height;
  if (av_frame_get_buffer(scaled.get(), 0) < 0) return Unexpected(std::string("out of memory"));
  sws_scale(scaler.get(), picture->data, picture->linesize, 0, picture->height, scaled->data,
            scaled->linesize);

  const AVCodec* mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!mjpeg) return Unexpected(std::string("no JPEG encoder in libavcodec"));
  CodecContext encoder(avcodec_alloc_context3(mjpeg));
  encoder->width = width;
  encoder->height = height;
  encoder->pix_fmt = AV_PIX_FMT_YUVJ420P;
  encoder->time_base = {1, 25};
  encoder->flags |= AV_CODEC_FLAG_QSCALE;
  encoder->global_quality = FF_QP2LAMBDA * options.quality;
  scaled->quality = encoder->global_quality;
  if (rc = avcodec_open2(encoder.get(), mjpeg, nullptr); rc < 0) {
    return Unexpected("cannot open the JPEG encoder: " + av_error(rc));
  }
  if (rc = avcodec_send_frame(encoder.get(), scaled.get()); rc < 0) {
    return Unexpected("JPEG encoding failed: " + av_error(rc));
  }
  Packet jpeg(av_packet_alloc());
  if (rc = avcodec_receive_packet(encoder.get(), jpeg.get()); rc < 0) {
    return Unexpected("JPEG encoding failed: " + av_error(rc));
  }
  return std::string(reinterpret_cast<const char*>(jpeg->data), static_cast<size_t>(jpeg->size));
}

}  // namespace nj::media::snapshot
