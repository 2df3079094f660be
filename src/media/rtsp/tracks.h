// The media side of an RTSP session, shared by the server and the client: which tracks of
// an SDP we relay and how their RTP becomes hub frames (Ingest), and how hub frames become
// RTP again with sender reports, plus the SDP that describes them (Egress).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "media/hub/hub.h"
#include "media/rtp/aac.h"
#include "media/rtp/audio.h"
#include "media/rtp/h264.h"
#include "media/rtp/h265.h"
#include "media/rtp/reorder.h"
#include "media/sdp/sdp.h"
#include "metrics/registry.h"

namespace nj::media::rtsp {

// Process-wide RTP counters, shared by every session (Prometheus, via metrics::Registry).
struct RtpCounters {
  metrics::Counter& received;
  metrics::Counter& lost;       // gaps in the pushers' sequence numbers
  metrics::Counter& malformed;  // packets or payloads that could not be parsed
  metrics::Counter& sent;
  // From an access unit's last packet arriving to its packets going to a player's socket
  // (live frames only, not the cached GOP a new player starts with).
  metrics::Histogram& relay_delay;
  // Frames a slow player did not get: its queue was emptied to resume at a keyframe.
  metrics::Counter& viewer_dropped_frames;
  // UDP only: packets put back in sequence order, and packets that came after their gap
  // had been given up (dropped).
  metrics::Counter& reordered;
  metrics::Counter& late;
  static RtpCounters in(metrics::Registry& registry);
};

// Buckets for relay delays: 25 µs … 1 s.
const std::vector<double>& relay_delay_buckets();

// Steady-clock microseconds, the unit of hub::Frame::received_at_us.
int64_t steady_now_us();

// RTP of the tracks of one SDP (an ANNOUNCE body, or a DESCRIBE answer) into hub frames:
// the first H.264 or H.265 video and the first audio we relay (AAC, Opus, G.711) are taken,
// other media are ignored.
class Ingest {
 public:
  using FrameSink = std::function<void(hub::FramePtr)>;
  // Called when in-band parameter sets change what the stream looks like.
  using InfoSink = std::function<void(const hub::StreamInfo&)>;

  // Fails when the SDP has no H.264 or H.265 video to relay.
  static Result<std::unique_ptr<Ingest>, std::string> from_sdp(const sdp::Session& session);

  const hub::StreamInfo& info() const { return info_; }
  int video_track() const { return video_track_; }  // index of the media section, or -1
  int audio_track() const { return audio_track_; }
  // Starts turning packets into frames; packets before this are dropped.
  void start(FrameSink frames, InfoSink info_changed, const RtpCounters* counters = nullptr);
  // Packets may come out of order (UDP): hold a small window to put them back in order.
  // Over TCP a gap never fills, so waiting would only add delay.
  void enable_reordering(rtp::ReorderOptions options = {});
  // One RTP packet of media section `track` (packets of other sections are ignored).
  void push(int track, std::span<const uint8_t> packet);
  // One RTCP packet of that track: its sender reports give frames their capture time.
  void push_rtcp(int track, std::span<const uint8_t> packet);
  void flush();

  struct Stats {
    uint64_t packets = 0, bad_packets = 0, lost_packets = 0, frames = 0, reordered = 0, late = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  Ingest() = default;
  void on_video(rtp::H264AccessUnit&& au);
  void depacketize(bool video, const rtp::Packet& packet);
  int64_t capture_us(bool audio, int64_t timestamp) const;
  std::optional<rtp::SenderReport> video_report_, audio_report_;

  hub::StreamInfo info_;
  int video_track_ = -1;
  int audio_track_ = -1;
  FrameSink frames_;
  InfoSink info_changed_;
  const RtpCounters* counters_ = nullptr;
  std::unique_ptr<rtp::H264Depacketizer> video_;
  std::unique_ptr<rtp::H265Depacketizer> video265_;
  std::unique_ptr<rtp::AacDepacketizer> audio_;
  std::unique_ptr<rtp::FrameDepacketizer> audio_frames_;           // Opus, G.711
  std::unique_ptr<rtp::ReorderBuffer> video_order_, audio_order_;  // UDP only
  Stats stats_;
};

// Hub frames out as RTP: video on track 0 and, when the stream has audio, audio on track 1,
// each with random SSRC, sequence and timestamp offsets, and an RTCP sender report about
// once a second per track. Video starts at a keyframe; audio starts with it.
class Egress {
 public:
  // rtcp: the packet is RTCP (for the track's second channel or port).
  using Sink = std::function<void(int track, bool rtcp, std::span<const uint8_t> packet)>;

  Egress(const hub::StreamInfo& info, Sink sink, const RtpCounters* counters = nullptr);

  bool has_audio() const { return audio_ != nullptr || audio_frames_ != nullptr; }
  // The SDP for these tracks, with controls "trackID=0" and "trackID=1".
  std::string sdp(const std::string& name) const;
  uint16_t next_sequence(int track) const;
  // The RTP timestamp a frame will carry on its track.
  uint32_t rtp_timestamp(const hub::Frame& frame) const;
  // Disables a track the peer did not set up.
  void set_track_enabled(int track, bool enabled);
  void send(const hub::Frame& frame);
  bool started() const { return started_; }
  // The stream's one timeline, in NTP units (2^-32 s), which every sender report follows:
  // where an RTP time of a track sits on it, and a track's RTP time at one of its instants.
  // A track has its place on the timeline from its first frame sent; nullopt before.
  std::optional<uint64_t> ntp_time(int track, uint32_t rtp_timestamp) const;
  std::optional<uint32_t> rtp_time_at(int track, uint64_t ntp) const;

  struct Stats {
    uint64_t frames = 0, packets = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Output {
    uint32_t ssrc = 0, timestamp_offset = 0, clock_rate = 90000;
    bool enabled = true;
    uint32_t packets = 0, octets = 0;
    int64_t last_report_us = 0;
    bool anchored = false;
    uint64_t anchor_ntp = 0;
    uint32_t anchor_rtp = 0;
  };
  void anchor(Output& out, uint32_t rtp_timestamp, const hub::Frame& frame);
  void maybe_report(int track, Output& out, uint32_t rtp_timestamp);
  void emit(int track, Output& out, std::span<const uint8_t> packet);

  hub::StreamInfo info_;
  Sink sink_;
  const RtpCounters* counters_;
  std::unique_ptr<rtp::H264Packetizer> video_;
  std::unique_ptr<rtp::H265Packetizer> video265_;
  std::unique_ptr<rtp::AacPacketizer> audio_;
  std::unique_ptr<rtp::FramePacketizer> audio_frames_;  // Opus, G.711
  Output video_out_, audio_out_;
  bool started_ = false;
  int64_t started_at_us_ = 0;
  // The wall-clock instant of the first keyframe sent, and how later frames are placed
  // against it (see anchor()).
  int64_t base_wall_us_ = 0, base_received_us_ = 0;
  bool base_captured_ = false;
  Stats stats_;
};

// The RTP form of one frame, made once per stream for all its RTSP players (a hub
// packager): its packets, and any sender report due with them, in RTSP interleaved framing
// ('$', channel, length, packet) on channels 0/1 (video RTP/RTCP) and 2/3 (audio). A TCP
// player that set up those channels gets the very same bytes; others are given the packets
// one by one. Every player of a stream therefore sees one SSRC and one sequence per track,
// and PLAY tells it where it starts (RTP-Info).
struct RtpPackets final : hub::Packaged {
  std::shared_ptr<const std::vector<uint8_t>> interleaved;  // null: nothing sent (no keyframe yet)
  uint32_t packets = 0;                                     // RTP packets in it
  uint16_t first_sequence = 0;                              // of its first RTP packet
  uint32_t rtp_timestamp = 0;
  uint64_t ntp = 0;  // its instant on the stream's timeline (Egress::ntp_time)
  // Video: the audio track's RTP time at this frame's instant, once audio has a place on the
  // timeline. A player starting at this keyframe is told its audio starts there (RTP-Info).
  std::optional<uint32_t> audio_rtp_timestamp;
  // Calls f(channel, packet) for each packet, in order.
  void for_each(const std::function<void(int channel, std::span<const uint8_t> packet)>& f) const;
};

class RtpPackager final : public hub::Packager {
 public:
  std::shared_ptr<const hub::Packaged> package(const hub::Frame& frame,
                                               const hub::StreamInfo& info) override;

 private:
  std::unique_ptr<Egress> egress_;
  std::vector<uint8_t> current_;
  uint32_t packets_ = 0;
  std::optional<std::pair<uint16_t, uint32_t>> first_;  // sequence and timestamp
};

// Lets the hub make RtpPackets for RTSP players (Packaging::kRtp).
void install_rtp_packager(hub::Hub& hub);

}  // namespace nj::media::rtsp
