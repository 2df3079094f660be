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
  std::unique_ptr<rtsp::Ingest> ingest;
  size_t frames = 0;
  rtsp::ClientSession::Handlers h;
  h.send = [](std::string) {};
  h.described = [&](const sdp::Session& session) -> std::vector<int> {
    auto in = rtsp::Ingest::from_sdp(session);
    if (!in) return {};
    ingest = std::move(*in);
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
  session.start();
  // The first byte sets the chunk size, so message boundaries fall anywhere.
  if (size == 0) return 0;
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
