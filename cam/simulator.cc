#include "simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <vector>

#include "libav.h"
#include "media/rtp/h264.h"
#include "media/rtsp/tracks.h"

namespace nj::cam {
namespace {

using Context = av::Context;
using Picture = av::Frame;
using Packet = av::Packet;
constexpr auto av_error = av::error_text;

// Annex B (start codes) → AVCC (4-byte lengths), dropping empty units.
std::vector<uint8_t> to_avcc(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out;
  out.reserve(size + 16);
  size_t i = 0;
  auto next_start = [&](size_t from) -> std::pair<size_t, size_t> {  // position, code length
    for (size_t k = from; k + 3 <= size; ++k) {
      if (data[k] == 0 && data[k + 1] == 0) {
        if (data[k + 2] == 1) return {k, 3};
        if (k + 4 <= size && data[k + 2] == 0 && data[k + 3] == 1) return {k, 4};
      }
    }
    return {size, 0};
  };
  auto [at, len] = next_start(0);
  i = at + len;
  while (i < size) {
    auto [next, next_len] = next_start(i);
    size_t end = next;
    while (end > i && data[end - 1] == 0 && next_len != 0) --end;  // trailing zeros
    const size_t n = end - i;
    if (n > 0) {
      for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(n >> s));
      out.insert(out.end(), data + i, data + end);
    }
    i = next + next_len;
    if (next_len == 0) break;
  }
  return out;
}

// Parameter sets from the encoder's extradata (Annex B).
void parameter_sets(const uint8_t* data, size_t size, std::vector<uint8_t>& sps,
                    std::vector<uint8_t>& pps) {
  const auto avcc = to_avcc(data, size);
  media::rtp::for_each_avcc_nal(avcc, [&](std::span<const uint8_t> nal) {
    if (nal.empty()) return;
    if ((nal[0] & 0x1f) == 7) sps.assign(nal.begin(), nal.end());
    if ((nal[0] & 0x1f) == 8) pps.assign(nal.begin(), nal.end());
  });
}

// A 3×5 font for the clock's digits and ':'.
constexpr uint16_t kGlyphs[11] = {0x7B6F, 0x2C97, 0x73E7, 0x73CF, 0x5BC9, 0x79CF,
                                  0x79EF, 0x7249, 0x7BEF, 0x7BCF, 0x0410};

void fill(AVFrame* f, int x0, int y0, int w, int h, uint8_t y, uint8_t u, uint8_t v) {
  const int x1 = std::min(f->width, x0 + w), y1 = std::min(f->height, y0 + h);
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  for (int yy = y0; yy < y1; ++yy) {
    std::memset(f->data[0] + yy * f->linesize[0] + x0, y, static_cast<size_t>(x1 - x0));
  }
  for (int yy = y0 / 2; yy < y1 / 2; ++yy) {
    std::memset(f->data[1] + yy * f->linesize[1] + x0 / 2, u, static_cast<size_t>(x1 - x0) / 2);
    std::memset(f->data[2] + yy * f->linesize[2] + x0 / 2, v, static_cast<size_t>(x1 - x0) / 2);
  }
}

void draw_text(AVFrame* f, const std::string& text, int x, int y, int scale) {
  for (char c : text) {
    const int g = c == ':' ? 10 : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (g >= 0) {
      for (int row = 0; row < 5; ++row) {
        for (int col = 0; col < 3; ++col) {
          if (kGlyphs[g] & (1 << (14 - (row * 3 + col)))) {
            fill(f, x + col * scale, y + row * scale, scale, scale, 235, 128, 128);
          }
        }
      }
    }
    x += 4 * scale;
  }
}

// Whether the scheduled intruder is in the scene at frame n.
bool motion_at(const SimulatorOptions& o, uint64_t n) {
  if (o.motion_every_s <= 0) return false;
  const uint64_t period = static_cast<uint64_t>(o.motion_every_s) * static_cast<uint64_t>(o.fps);
  const uint64_t active = static_cast<uint64_t>(std::min(o.motion_for_s, o.motion_every_s)) *
                          static_cast<uint64_t>(o.fps);
  return n % period >= period - active;
}

// Brightness only (the figure is grey): a polygon, filled by the even-odd rule row by row.
void fill_polygon(AVFrame* f, const std::vector<std::pair<double, double>>& points, uint8_t y) {
  double top = f->height, bottom = 0;
  for (const auto& [px, py] : points) {
    top = std::min(top, py);
    bottom = std::max(bottom, py);
  }
  for (int row = std::max(0, static_cast<int>(top));
       row <= std::min(f->height - 1, static_cast<int>(bottom)); ++row) {
    const double cy = row + 0.5;
    std::vector<double> xs;
    for (size_t i = 0, j = points.size() - 1; i < points.size(); j = i++) {
      const auto [ax, ay] = points[i];
      const auto [bx, by] = points[j];
      if ((ay > cy) != (by > cy)) xs.push_back(ax + (cy - ay) * (bx - ax) / (by - ay));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      const int x0 = std::max(0, static_cast<int>(xs[k]));
      const int x1 = std::min(f->width, static_cast<int>(xs[k + 1]));
      if (x1 > x0)
        std::memset(f->data[0] + row * f->linesize[0] + x0, y, static_cast<size_t>(x1 - x0));
    }
  }
}

// A limb: the line from a to b, `thick` pixels wide.
void limb(AVFrame* f, double ax, double ay, double bx, double by, double thick, uint8_t y) {
  const double len = std::hypot(bx - ax, by - ay);
  const double nx = -(by - ay) / len * thick / 2, ny = (bx - ax) / len * thick / 2;
  fill_polygon(f, {{ax + nx, ay + ny}, {bx + nx, by + ny}, {bx - nx, by - ny}, {ax - nx, ay - ny}},
               y);
}

// A person's figure walking, `h` pixels tall, centred on cx: head, neck, shoulders wider than
// hips, arms, legs apart in a stride. Drawn so that a HOG people detector sees a person.
void draw_person(AVFrame* f, double cx, double top, double h, uint8_t y) {
  const double u = h / 8;  // a head is an eighth of a person
  std::vector<std::pair<double, double>> head;
  for (int i = 0; i < 24; ++i) {
    const double a = i * 2 * M_PI / 24;
    head.emplace_back(cx + std::cos(a) * u * 0.38, top + u * 0.5 + std::sin(a) * u * 0.5);
  }
  fill_polygon(f, head, y);
  fill_polygon(f,
               {{cx - u * 0.15, top + u * 0.9},
                {cx + u * 0.15, top + u * 0.9},
                {cx + u * 0.15, top + u * 1.3},
                {cx - u * 0.15, top + u * 1.3}},
               y);
  fill_polygon(f,
               {{cx - u * 0.95, top + u * 1.3},
                {cx + u * 0.95, top + u * 1.3},
                {cx + u * 0.7, top + u * 4.1},
                {cx - u * 0.7, top + u * 4.1}},
               y);
  limb(f, cx - u * 0.9, top + u * 1.45, cx - u * 1.15, top + u * 4.0, u * 0.38, y);
  limb(f, cx + u * 0.9, top + u * 1.45, cx + u * 1.15, top + u * 4.0, u * 0.38, y);
  limb(f, cx - u * 0.35, top + u * 4.0, cx - u * 0.8, top + u * 7.8, u * 0.5, y);
  limb(f, cx + u * 0.35, top + u * 4.0, cx + u * 0.8, top + u * 7.8, u * 0.5, y);
}

void draw_scene(AVFrame* f, uint64_t n, int fps, bool intruder, bool person, bool still,
                bool sync_mark) {
  // A dim gradient, two objects moving at different speeds, the wall clock, the counter.
  for (int y = 0; y < f->height; ++y) {
    std::memset(f->data[0] + y * f->linesize[0], 40 + (y * 60) / f->height,
                static_cast<size_t>(f->width));
  }
  for (int y = 0; y < f->height / 2; ++y) {
    std::memset(f->data[1] + y * f->linesize[1], 120, static_cast<size_t>(f->width / 2));
    std::memset(f->data[2] + y * f->linesize[2], 136, static_cast<size_t>(f->width / 2));
  }
  const double t = static_cast<double>(n) / fps;
  const int size = f->height / 6;
  const int x1 = static_cast<int>((std::sin(t * 0.9) * 0.5 + 0.5) * (f->width - size));
  const int y1 = f->height / 3;
  if (!still) {  // a still scene (a yard at rest) has nothing moving but the intruder
    fill(f, x1, y1, size, size, 180, 60, 200);
    const int x2 = static_cast<int>(std::fmod(t * f->width / 6.0, f->width + size)) - size;
    fill(f, x2, f->height * 2 / 3, size * 2, size / 2, 150, 200, 90);
  }
  if (intruder) {  // a tall white figure walking across, left to right
    const int w = f->width / 10, h = f->height / 2;
    const int x = static_cast<int>(std::fmod(t * f->width / 3.0, f->width + w)) - w;
    if (person) {
      draw_person(f, x + w / 2.0, f->height / 4.0, h, 225);
    } else {
      fill(f, x, f->height / 4, w, h, 235, 128, 128);
    }
  }
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char clock[16];
  std::snprintf(clock, sizeof clock, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  const int scale = std::max(2, f->height / 60);
  draw_text(f, clock, scale * 2, f->height - 7 * scale, scale);
  const int block = f->width / kCounterBits;
  for (int bit = 0; bit < kCounterBits; ++bit) {
    const bool one = (n >> (kCounterBits - 1 - bit)) & 1;
    fill(f, bit * block, 0, block, block / 2, one ? 235 : 16, 128, 128);
  }
  // The first 200 ms of every second, as the beep: a white square at the bottom right.
  if (sync_mark && static_cast<int>(n % static_cast<uint64_t>(fps)) < std::max(1, fps / 5)) {
    const int side = f->height / 5;
    fill(f, f->width - side, f->height - side, side, side, 235, 128, 128);
  }
}

// Left and right swapped in every plane.
void mirror_picture(AVFrame* f) {
  for (int plane = 0; plane < 3; ++plane) {
    const int w = plane == 0 ? f->width : f->width / 2;
    const int h = plane == 0 ? f->height : f->height / 2;
    for (int y = 0; y < h; ++y) {
      uint8_t* row = f->data[plane] + y * f->linesize[plane];
      std::reverse(row, row + w);
    }
  }
}

// Upside down: rows swapped top to bottom in every plane.
void flip_picture(AVFrame* f) {
  for (int plane = 0; plane < 3; ++plane) {
    const int w = plane == 0 ? f->width : f->width / 2;
    const int h = plane == 0 ? f->height : f->height / 2;
    for (int y = 0; y < h / 2; ++y) {
      std::swap_ranges(f->data[plane] + y * f->linesize[plane],
                       f->data[plane] + y * f->linesize[plane] + w,
                       f->data[plane] + (h - 1 - y) * f->linesize[plane]);
    }
  }
}

// Grey, as a camera's picture under infrared at night.
void grey_picture(AVFrame* f) {
  for (int plane = 1; plane < 3; ++plane) {
    for (int y = 0; y < f->height / 2; ++y) {
      std::memset(f->data[plane] + y * f->linesize[plane], 128, static_cast<size_t>(f->width / 2));
    }
  }
}

// One picture as a JPEG, with libavcodec's MJPEG encoder (full-range as JPEG wants).
std::optional<std::string> encode_jpeg(const AVFrame* picture) {
  const AVCodec* mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!mjpeg) return std::nullopt;
  Context c(avcodec_alloc_context3(mjpeg));
  if (!c) return std::nullopt;
  c->width = picture->width;
  c->height = picture->height;
  c->time_base = {1, 1};
  c->pix_fmt = AV_PIX_FMT_YUVJ420P;
  c->flags |= AV_CODEC_FLAG_QSCALE;
  c->global_quality = FF_QP2LAMBDA * 4;
  if (avcodec_open2(c.get(), mjpeg, nullptr) < 0) return std::nullopt;
  Picture frame(av_frame_clone(picture));
  if (!frame) return std::nullopt;
  frame->format = AV_PIX_FMT_YUVJ420P;  // the same planes; the encoder wants the J format
  frame->pts = 0;
  frame->pict_type = AV_PICTURE_TYPE_NONE;
  Packet packet(av_packet_alloc());
  if (avcodec_send_frame(c.get(), frame.get()) < 0 || avcodec_send_frame(c.get(), nullptr) < 0 ||
      avcodec_receive_packet(c.get(), packet.get()) < 0) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(packet->data),
                     static_cast<size_t>(packet->size));
}

}  // namespace

std::optional<std::string> Simulator::jpeg() {
  std::future<std::optional<std::string>> answer;
  {
    std::lock_guard lock(jpeg_mu_);
    jpeg_wanted_.emplace_back();
    answer = jpeg_wanted_.back().get_future();
  }
  if (answer.wait_for(std::chrono::seconds(1)) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

void Simulator::set_look(const Look& look) {
  mirror_ = look.mirror;
  flip_ = look.flip;
  night_ = look.night;
  muted_ = look.muted;
  covered_ = look.covered;
}

struct Simulator::Encoders {
  Context video, audio;
  Picture picture, samples;
  Packet packet;
  media::hub::StreamInfo info;
};

Result<std::unique_ptr<Simulator>, std::string> Simulator::start(media::hub::Hub& hub,
                                                                 const std::string& path,
                                                                 SimulatorOptions o) {
  av_log_set_level(AV_LOG_ERROR);
  if (o.width < 64 || o.height < 64 || o.width % 2 || o.height % 2 || o.fps < 1 || o.fps > 60) {
    return Unexpected(std::string("bad simulation size or frame rate"));
  }
  auto e = std::make_unique<Encoders>();
  const AVCodec* x264 = avcodec_find_encoder_by_name("libx264");
  if (!x264) return Unexpected(std::string("libavcodec has no libx264 encoder"));
  e->video.reset(avcodec_alloc_context3(x264));
  auto* v = e->video.get();
  v->width = o.width;
  v->height = o.height;
  v->time_base = {1, o.fps};
  v->framerate = {o.fps, 1};
  v->pix_fmt = AV_PIX_FMT_YUV420P;
  v->gop_size = o.fps * o.gop_seconds;
  v->max_b_frames = 0;
  v->bit_rate = int64_t{o.bitrate_kbps} * 1000;
  v->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(v->priv_data, "preset", "veryfast", 0);
  av_opt_set(v->priv_data, "tune", "zerolatency", 0);
  av_opt_set(v->priv_data, "forced-idr", "1",
             0);  // a forced keyframe (after privacy mode) is an IDR
  av_opt_set(v->priv_data, "profile", "main", 0);
  if (int rc = avcodec_open2(v, x264, nullptr); rc < 0) {
    return Unexpected("cannot open libx264: " + av_error(rc));
  }
  e->info.video_codec = "H264";
  e->info.width = static_cast<uint32_t>(o.width);
  e->info.height = static_cast<uint32_t>(o.height);
  parameter_sets(v->extradata, static_cast<size_t>(v->extradata_size), e->info.sps, e->info.pps);
  if (e->info.sps.empty() || e->info.pps.empty()) {
    return Unexpected(std::string("libx264 gave no parameter sets"));
  }
  e->picture.reset(av_frame_alloc());
  e->picture->format = AV_PIX_FMT_YUV420P;
  e->picture->width = o.width;
  e->picture->height = o.height;
  if (av_frame_get_buffer(e->picture.get(), 0) < 0) return Unexpected(std::string("no memory"));
  e->packet.reset(av_packet_alloc());

  if (o.audio) {
    const AVCodec* aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!aac) return Unexpected(std::string("libavcodec has no AAC encoder"));
    e->audio.reset(avcodec_alloc_context3(aac));
    auto* a = e->audio.get();
    a->sample_rate = 16000;
    a->sample_fmt = AV_SAMPLE_FMT_FLTP;
    av_channel_layout_default(&a->ch_layout, 1);
    a->bit_rate = 32000;
    a->time_base = {1, 16000};
    a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int rc = avcodec_open2(a, aac, nullptr); rc < 0) {
      return Unexpected("cannot open the AAC encoder: " + av_error(rc));
    }
    e->info.audio_codec = "AAC";
    e->info.audio_sample_rate = 16000;
    e->info.audio_channels = 1;
    e->info.audio_config.assign(a->extradata, a->extradata + a->extradata_size);
    e->samples.reset(av_frame_alloc());
    e->samples->format = AV_SAMPLE_FMT_FLTP;
    e->samples->nb_samples = a->frame_size;
    av_channel_layout_copy(&e->samples->ch_layout, &a->ch_layout);
    e->samples->sample_rate = 16000;
    if (av_frame_get_buffer(e->samples.get(), 0) < 0) return Unexpected(std::string("no memory"));
  }

  auto publisher = hub.publish(path, e->info);
  if (!publisher) return Unexpected("the stream " + path + " is published already");
  std::unique_ptr<Simulator> sim(new Simulator());
  sim->encoders_ = std::move(e);
  sim->publisher_ = std::move(*publisher);
  sim->options_ = o;
  sim->thread_ = std::thread([s = sim.get()] { s->run(); });
  return sim;
}

Simulator::~Simulator() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(jpeg_mu_);
    for (auto& p : jpeg_wanted_) p.set_value(std::nullopt);
    jpeg_wanted_.clear();
  }
  if (in_motion_ && options_.on_motion) options_.on_motion(false);
  publisher_.reset();
}

void Simulator::run() {
  auto& e = *encoders_;
  const auto start = std::chrono::steady_clock::now();
  // Capture times on the wall clock, from one origin for both tracks (what a camera's
  // RTCP sender reports would say), so players line audio up with video exactly.
  const int64_t wall0 = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  // Tests read the origin to time the camera's sound to the page (each beep starts on a
  // whole second after it).
  spdlog::info("cam.simulate.clock origin_us={}", wall0);
  const auto frame_period = std::chrono::microseconds(1'000'000 / options_.fps);
  int64_t audio_samples = 0;
  double phase = 0;
  bool was_covered = false;
  for (uint64_t n = 0; !stop_; ++n) {
    std::this_thread::sleep_until(start + frame_period * n);
    if (stop_) break;
    if (av_frame_make_writable(e.picture.get()) < 0) break;
    const bool intruder = motion_at(options_, n);
    if (intruder != in_motion_) {
      in_motion_ = intruder;
      if (options_.on_motion) options_.on_motion(intruder);
    }
    if (covered_) {  // privacy mode: nothing leaves the camera; resume on a keyframe
      was_covered = true;
      {
        std::lock_guard lock(jpeg_mu_);  // no pictures either
        for (auto& p : jpeg_wanted_) p.set_value(std::nullopt);
        jpeg_wanted_.clear();
      }
      if (e.audio) {  // the sound it did not send is skipped, not sent later
        const int64_t due = static_cast<int64_t>(n + 1) * 16000 / options_.fps;
        while (audio_samples + e.samples->nb_samples <= due) audio_samples += e.samples->nb_samples;
      }
      continue;
    }
    draw_scene(e.picture.get(), n, options_.fps, intruder, options_.intruder_person, options_.still,
               options_.sync_marks);
    if (mirror_) mirror_picture(e.picture.get());
    if (flip_) flip_picture(e.picture.get());
    if (night_) grey_picture(e.picture.get());
    {
      std::vector<std::promise<std::optional<std::string>>> wanted;
      {
        std::lock_guard lock(jpeg_mu_);
        wanted.swap(jpeg_wanted_);
      }
      if (!wanted.empty()) {
        const auto picture = encode_jpeg(e.picture.get());
        for (auto& p : wanted) p.set_value(picture);
      }
    }
    e.picture->pts = static_cast<int64_t>(n);
    e.picture->pict_type = was_covered ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    was_covered = false;
    if (avcodec_send_frame(e.video.get(), e.picture.get()) < 0) break;
    while (avcodec_receive_packet(e.video.get(), e.packet.get()) == 0) {
      auto frame = std::make_shared<media::hub::Frame>();
      frame->track = media::hub::TrackKind::kVideo;
      frame->timestamp = e.packet->pts * 90000 / options_.fps;
      frame->keyframe = (e.packet->flags & AV_PKT_FLAG_KEY) != 0;
      frame->received_at_us = media::rtsp::steady_now_us();
      frame->capture_us = wall0 + e.packet->pts * 1'000'000 / options_.fps;
      frame->data = to_avcc(e.packet->data, static_cast<size_t>(e.packet->size));
      av_packet_unref(e.packet.get());
      publisher_->publish(frame);
      ++frames_;
    }
    // Audio up to this frame's time, in the encoder's frames of 1,024 samples.
    if (e.audio) {
      const int64_t due = static_cast<int64_t>(n + 1) * 16000 / options_.fps;
      while (audio_samples + e.samples->nb_samples <= due) {
        if (av_frame_make_writable(e.samples.get()) < 0) return;
        auto* out = reinterpret_cast<float*>(e.samples->data[0]);
        for (int i = 0; i < e.samples->nb_samples; ++i) {
          const int64_t s = audio_samples + i;
          const bool beeping = !muted_ && (s % 16000) < 3200;  // 200 ms of every second
          out[i] = beeping ? 0.3f * static_cast<float>(std::sin(phase)) : 0.0f;
          phase += 2 * M_PI * 440.0 / 16000.0;
        }
        e.samples->pts = audio_samples;
        audio_samples += e.samples->nb_samples;
        if (avcodec_send_frame(e.audio.get(), e.samples.get()) < 0) return;
        while (avcodec_receive_packet(e.audio.get(), e.packet.get()) == 0) {
          auto frame = std::make_shared<media::hub::Frame>();
          frame->track = media::hub::TrackKind::kAudio;
          frame->timestamp = e.packet->pts;
          frame->received_at_us = media::rtsp::steady_now_us();
          frame->capture_us = wall0 + e.packet->pts * 1'000'000 / 16000;
          frame->data.assign(e.packet->data, e.packet->data + e.packet->size);
          av_packet_unref(e.packet.get());
          publisher_->publish(frame);
        }
      }
    }
  }
}

}  // namespace nj::cam
