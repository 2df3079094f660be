// Server-side detection for cameras that cannot detect (pulled RTSP cameras, gateways with
// --source, cheap cameras): the owner turns it on per camera, the server keeps the camera
// streaming, and one detection thread looks at each camera's keyframes (at most 2 a second,
// decoded to grey at 640 pixels wide): motion by frame differencing inside the camera's
// zones, and people by OpenCV's HOG detector on what moved only (at most every 2 s per
// camera, less often while a scene moves without people). What it finds is reported as the camera's
// own reports are: events, pictures, notifications and events-only recording follow. Its cost is
// bounded: when the thread spends more than its share of a core (half, over 10 s), every camera is
// looked at less often until it is back under.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "detect/motion.h"
#include "detect/person.h"
#include "media/hub/hub.h"
#include "store/database.h"

namespace nj::detect {

// Each camera's detection settings (owner's), kept as JSON per device.
class SettingsStore {
 public:
  explicit SettingsStore(store::Database& db) : db_(db) {}
  DetectionSettings get(std::string_view device_id);
  bool save(std::string_view device_id, const DetectionSettings& s);
  // Bound cameras with detection on: serial → settings.
  std::map<std::string, DetectionSettings> enabled();
  void forget(std::string_view device_id);

 private:
  store::Database& db_;
};

struct DetectOptions {
  std::chrono::milliseconds min_interval{500};  // at most 2 pictures a second per camera
  // HOG at most this often per camera: at once when motion begins, then every interval;
  // after two checks that found no one, less often while the same motion goes on (every 2,
  // then person_backoff_max intervals); every 2 intervals while a person is seen (enough to
  // keep their event open, which ends after 2 × quiet without them).
  std::chrono::milliseconds person_interval{2000};
  int person_backoff_max = 3;
  std::chrono::milliseconds quiet{4000};  // motion ends after this long without
  double max_core_share = 0.5;            // of one core, measured over 10 s
  uint32_t width = 640;                   // pictures are looked at this wide
};

// How many person intervals apart HOG runs on a camera whose picture moves: 1 at first,
// growing to `max` while checks find no one (`empty_checks` in a row), 2 while a person is
// seen.
int person_check_every(bool person_seen, int empty_checks, int max);

class DetectionService {
 public:
  // What was seen: kind "motion" or "person", began or ended, a score (0–1), and the zones
  // it was seen in (named when the camera has zones).
  using Report = std::function<void(const std::string& serial, std::string_view kind, bool active,
                                    double score, const std::vector<std::string>& zones)>;
  using Enabled = std::function<std::map<std::string, DetectionSettings>()>;
  using KeepOn = std::function<void(std::set<std::string> serials)>;

  DetectionService(media::hub::Hub& hub, Enabled enabled, KeepOn keep_on, Report report,
                   DetectOptions options = {});
  ~DetectionService();

  // Reads which cameras are watched again (every few seconds, and after a change).
  void refresh();

  struct Stats {
    uint64_t analysed = 0, people_checks = 0, decode_errors = 0, deferred = 0;
    double busy_share = 0;  // of one core, over the last 10 s
    int backoff = 1;        // pictures are looked at this many times less often
    size_t cameras = 0;
  };
  Stats stats() const;

 private:
  struct Camera {
    std::string serial;
    DetectionSettings settings;
    std::unique_ptr<MotionDetector> motion;
    std::unique_ptr<media::hub::Subscription> subscription;
    media::hub::StreamInfo info;
    std::chrono::steady_clock::time_point last_analysed{}, last_motion{}, last_person_check{},
        last_person{};
    bool moving = false, person = false;
    int empty_checks = 0;            // HOG found no one, this many times in a row, while moving
    std::vector<std::string> zones;  // where it moved, while moving
  };
  void loop();
  void watch(Camera& c, std::chrono::steady_clock::time_point now);
  void analyse(Camera& c, const media::hub::FramePtr& keyframe,
               std::chrono::steady_clock::time_point now);
  void end(Camera& c);

  media::hub::Hub& hub_;
  Enabled enabled_;
  KeepOn keep_on_;
  Report report_;
  DetectOptions options_;
  PersonDetector people_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool refresh_ = true;
  Stats stats_;
  std::map<std::string, Camera> cameras_;  // the detection thread's
  // Time spent analysing, per second of the last 10 (the thread's own).
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::chrono::microseconds>> spent_;
  std::thread thread_;
};

}  // namespace nj::detect
