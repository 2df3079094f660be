// Fuzz target: what a hostile camera or server may answer our RTSP client — status lines,
// challenges (Digest/Basic), SDP in DESCRIBE answers, transports, sessions, interleaved
// RTP — fed in chunks to a playing ClientSession whose tracks go through Ingest, as the
// Puller does. Nothing may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "media/rtsp/client.h"
#include "media/rtsp/tracks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nj::media;
  if (size == 0) return 0;
  // The first byte's top bit asks for UDP (SETUP answers must then carry server ports,
  // and packets go through the reorder window).
  const bool udp = (data[0] & 0x80) != 0;
  std::unique_ptr<rtsp::Ingest> ingest;
  size_t frames = 0;
  rtsp::ClientSession::Handlers h;
  h.send = [](std::string) {};
  h.described = [&](const sdp::Session& session) -> std::vector<int> {
    auto in = rtsp::Ingest::from_sdp(session);
    if (!in) return {};
    ingest = std::move(*in);
    if (udp) ingest->enable_reordering();
    ingest->start([&](hub::FramePtr) { ++frames; }, [](const hub::StreamInfo&) {});
    std::vector<int> tracks{ingest->video_track()};
    if (ingest->audio_track() >= 0) tracks.push_back(ingest->audio_track());
    return tracks;
  };
  h.media = [&](int track, bool rtcp, std::span<const uint8_t> packet) {
    if (ingest && !rtcp) ingest->push(track, packet);
  };
  h.failed = [](const std::string&) {};
  rtsp::ClientSession session(*rtsp::parse_client_url("rtsp://admin:secret@cam:554/live"),
                              rtsp::ClientSession::Mode::kPlay, std::move(h));
  if (udp) {
    rtsp::ClientSession::UdpHandlers u;
    u.open_udp = [](int slot) -> std::optional<std::pair<int, int>> {
      return std::make_pair(5000 + 2 * slot, 5001 + 2 * slot);
    };
    u.udp_peer = [](int, int, std::pair<int, int>) {};
    u.send_datagram = [](int, bool, std::span<const uint8_t>) {};
    session.use_udp(std::move(u));
  }
  session.start();
  // The first byte's low bits set the chunk size, so message boundaries fall anywhere.
  const size_t chunk = 1 + data[0] % 64;
  std::string buffer;
  for (size_t at = 1; at < size; at += chunk) {
    buffer.append(reinterpret_cast<const char*>(data + at), std::min(chunk, size - at));
    auto used = session.feed({reinterpret_cast<const uint8_t*>(buffer.data()), buffer.size()});
    if (!used) return 0;
    buffer.erase(0, *used);
    session.keepalive();
  }
  if (ingest) ingest->flush();
  return 0;
}
