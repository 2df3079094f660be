// Two-way talk's server side (issue #15): one line per camera, held by one person at a time,
// carrying what they say to the camera as 8 kHz G.711 µ-law (PCMU), the codec IP cameras and
// ONVIF back-channels take, which the browser encodes itself: the server passes it on as it
// came, without transcoding. The camera is asked to listen (talk.start) when a line opens
// and plays talk/{serial} over RTSP (TalkLines). The owner may take the line from whoever
// holds it. Nothing said is kept: audio lives in memory for as long as it takes to send it;
// only who talked to which camera, when and how long is recorded (CallRecord).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "media/rtp/audio.h"
#include "media/rtsp/session.h"

namespace nj::talk {

struct Caller {
  std::string serial, device_id, user_id;
  std::string label;   // who they are, for those who may know (their e-mail)
  bool owner = false;  // the camera's owner (who may take the line)
};

// The line is held: by whom (for those who may know), and whether that is the owner.
struct Busy {
  std::string holder;
  bool holder_is_owner = false;
};

struct CallRecord {
  std::string device_id, user_id;
  int64_t start_ms = 0, duration_ms = 0;
};

class TalkService final : public media::rtsp::TalkLines {
 public:
  static constexpr uint32_t kRate = 8000;
  static constexpr size_t kMaxFrameBytes = 1600;  // 200 ms of PCMU in one message
  // Audio may run ahead of real time by this much (a burst after a stall), no more.
  static constexpr int64_t kAheadSamples = kRate;

  // Asks the camera to listen (the talk.start RPC); done(error) once, nullopt when it agreed.
  using StartCamera = std::function<void(
      const std::string& serial, std::function<void(std::optional<std::string> error)> done)>;
  using Record = std::function<void(const CallRecord&)>;

  struct Handlers {
    // The call ended without its holder hanging up: "taken" (by the owner), "camera" (the
    // camera could not or would not listen), "ended" (the server let it go). Any thread.
    std::function<void(std::string_view why)> ended;
    // The camera started listening (it plays what is said from now on). Any thread.
    std::function<void()> listening;
  };

  class Call {
   public:
    ~Call();  // hangs up (the record is written)
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    // µ-law samples, in order; false when refused: empty, over kMaxFrameBytes, or further
    // ahead of real time than kAheadSamples (dropped, not queued).
    bool audio(std::span<const uint8_t> samples);

   private:
    friend class TalkService;
    Call(TalkService& service, std::string serial, uint64_t id)
        : service_(service), serial_(std::move(serial)), id_(id) {}
    TalkService& service_;
    std::string serial_;
    uint64_t id_;
  };

  TalkService(const Clock& clock, StartCamera start, Record record);
  ~TalkService() override;
  // Replaces how cameras are asked (set once the device link exists; empty: not asked).
  void set_starter(StartCamera start);

  // Takes the line of caller.serial, or says who holds it. With `take` (the owner only) a
  // line held by someone else is taken: they are told "taken", and the camera listens on.
  Result<std::unique_ptr<Call>, Busy> open(const Caller& caller, bool take, Handlers handlers);
  // Ends the call on a camera, if any (privacy mode turned on, the camera unbound).
  void end(const std::string& serial);
  size_t calls() const;

  std::optional<Format> format(std::string_view serial) override;
  std::unique_ptr<Listener> listen(
      std::string_view serial,
      std::function<void(std::shared_ptr<const std::vector<uint8_t>> packet)> packet,
      std::function<void()> ended) override;

 private:
  struct Holder {
    uint64_t id = 0;
    Caller caller;
    Handlers handlers;
    int64_t start_ms = 0;
  };
  struct Sink {
    std::function<void(std::shared_ptr<const std::vector<uint8_t>>)> packet;
    std::function<void()> ended;
  };
  struct Line {
    Holder holder;
    std::map<uint64_t, Sink> listeners;
    std::unique_ptr<media::rtp::FramePacketizer> packetizer;
    uint32_t rtp_timestamp = 0;
    int64_t tokens = 0, tokens_at_ms = 0;  // samples the holder may still send ahead
  };
  class Attached;
  void hang_up(const std::string& serial, uint64_t id, std::string_view why, bool tell);
  bool send(const std::string& serial, uint64_t id, std::span<const uint8_t> samples);
  void detach(const std::string& serial, uint64_t listener);
  CallRecord record_of(const Holder& h) const;

  const Clock& clock_;
  StartCamera start_;
  Record record_;
  mutable std::mutex mu_;
  std::map<std::string, Line> lines_;  // by serial
  uint64_t next_id_ = 1;
  // Answers to talk.start may come after this service is gone: they find it gone here.
  struct Life {
    std::mutex mu;
    bool alive = true;
  };
  std::shared_ptr<Life> life_ = std::make_shared<Life>();
};

}  // namespace nj::talk
