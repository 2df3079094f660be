// A synthetic camera: a scene with moving objects, a burnt-in clock and a frame-counter
// pattern, encoded as real H.264 (libx264 through libavcodec) with an AAC tone, published
// in real time into a hub stream. Demos, tests and load use it in place of a sensor.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "media/hub/hub.h"

namespace nj::cam {

struct SimulatorOptions {
  int width = 640, height = 360;
  int fps = 15;
  int bitrate_kbps = 600;
  int gop_seconds = 2;
  bool audio = true;  // a 440 Hz tone, beeping once a second, AAC-LC 16 kHz mono
  // Scheduled motion: every motion_every seconds (0: never), a bright intruder crosses the
  // scene for the last motion_for seconds of the period. The simulator is its own motion
  // detector: on_motion(true/false) is called (on its thread) as the intruder comes and
  // goes, and with false when the simulator stops during one.
  int motion_every_s = 0, motion_for_s = 3;
  bool intruder_person = false;  // a person's figure (head, arms, legs) instead of a box
  bool still = false;            // no moving objects in the scene but the intruder
  bool sync_marks = false;       // a white square shown while the tone beeps (A/V sync)
  std::function<void(bool active)> on_motion;
};

// The frame number is drawn as 16 blocks along the top edge, most significant first:
// a white block is a 1. Tests read it back from decoded pictures.
inline constexpr int kCounterBits = 16;

class Simulator {
 public:
  // Opens the encoders and publishes `path` in the hub; fails if an encoder is missing.
  static Result<std::unique_ptr<Simulator>, std::string> start(media::hub::Hub& hub,
                                                               const std::string& path,
                                                               SimulatorOptions options);
  ~Simulator();
  uint64_t frames() const { return frames_; }
  // What the camera's settings do to its picture and sound, from any thread: mirrored
  // (left and right), flipped (upside down), night (grey, as under infrared), muted (the
  // microphone off: silence is sent), and covered (privacy mode: nothing is published
  // until it ends; then a keyframe first).
  struct Look {
    bool mirror = false, flip = false, night = false, muted = false, covered = false;
  };
  void set_look(const Look& look);
  // The next picture as a JPEG (what the camera uploads for an event when it is not
  // streaming), or nullopt in privacy mode, when stopping, or if it cannot be encoded.
  // Waits for the next frame (at most a second).
  std::optional<std::string> jpeg();
  struct Encoders;

 private:
  Simulator() = default;
  void run();
  std::unique_ptr<Encoders> encoders_;
  std::unique_ptr<media::hub::Publisher> publisher_;
  SimulatorOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> frames_{0};
  bool in_motion_ = false;  // the simulator thread's
  std::atomic<bool> mirror_{false}, flip_{false}, night_{false}, muted_{false}, covered_{false};
  // Pictures asked for: fulfilled by the simulator thread with its next frame.
  std::mutex jpeg_mu_;
  std::vector<std::promise<std::optional<std::string>>> jpeg_wanted_;
  std::thread thread_;
};

}  // namespace nj::cam
