// The camera's side of two-way talk: after talk.start, it plays what the cloud says to it
// (RTSP PLAY of talk/{serial}: 8 kHz G.711 µ-law) on its speaker. A simulated camera's
// speaker is a WAV file (--speaker FILE, rewritten for each call) that tests read; nothing
// else of what is said is written anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "net/io_pool.h"

namespace nj::cam {

class Speaker {
 public:
  virtual ~Speaker() = default;
  virtual void begin() = 0;                              // a call starts
  virtual void play(std::span<const uint8_t> ulaw) = 0;  // 8 kHz µ-law samples, in order
  virtual void end() = 0;                                // the call is over
};

// A WAV file of µ-law samples (format 7), its sizes brought up to date after every write.
class WavSpeaker final : public Speaker {
 public:
  explicit WavSpeaker(std::filesystem::path path) : path_(std::move(path)) {}
  ~WavSpeaker() override;
  void begin() override;
  void play(std::span<const uint8_t> ulaw) override;
  void end() override;

 private:
  void write_header();
  std::filesystem::path path_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  uint32_t samples_ = 0;
};

// A gateway's speaker is its LAN camera's: what is said goes to the camera over its ONVIF
// audio back-channel (RTSP with "Require: www.onvif.org/ver20/backchannel", the SDP's
// a=sendonly audio section set up and played, RTP sent on it), a session for each call.
// µ-law is sent as it is, as A-law, or encoded to AAC or Opus: whatever the camera's
// section names (talk_codec.h). A session that
// fails or drops while the call lasts is opened again, after 0.5, 1, 2, then every 4 s.
class BackchannelSpeaker final : public Speaker {
 public:
  BackchannelSpeaker(net::IoPool& pool, std::string camera_url)
      : pool_(pool), url_(std::move(camera_url)) {}
  ~BackchannelSpeaker() override;
  void begin() override;
  void play(std::span<const uint8_t> ulaw) override;
  void end() override;
  struct Link;

 private:
  void open_locked();  // a new session, mu_ held
  net::IoPool& pool_;
  std::string url_;
  std::mutex mu_;
  std::shared_ptr<Link> link_;
  bool in_call_ = false;
  int failures_ = 0;  // sessions in a row that closed before playing
  std::chrono::steady_clock::time_point next_open_;
};

// Plays one call: connects, plays talk/{serial} until the cloud ends it or this is
// destroyed (which sends TEARDOWN). Never reconnects: a new call is a new talk.start.
class TalkReceiver {
 public:
  TalkReceiver(net::IoPool& pool, const std::string& url, Speaker& speaker);
  ~TalkReceiver();
  bool playing() const;
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nj::cam
