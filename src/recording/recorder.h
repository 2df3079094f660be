// The recorder (docs/recording.md): hub streams into segment files and their index.
// StreamRecorder writes one camera's stream; RecordingService keeps one per recorded device,
// subscribed to its stream whenever it is live, on one worker thread, and recovers what a
// crash left before it starts.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "media/hub/hub.h"
#include "recording/catalog.h"
#include "recording/fragmenter.h"
#include "recording/sealed.h"
#include "recording/store.h"

namespace nj::recording {

struct RecorderOptions {
  std::string region = "default";
  std::chrono::seconds segment_length{600};  // a new file after this long, at a keyframe
  std::chrono::seconds index_interval{2};    // the fragment table is saved at least this often
  bool sync = true;                          // fdatasync each fragment (power-loss safety)
  uint64_t reserve_bytes = 256ull << 20;     // pause when the store has less free than this
  std::chrono::seconds resume_check{10};     // how often a paused recorder looks again
  // Seals every segment under the device's binding key (docs/keys.md). A recorder that
  // has a lookup never writes in the clear: without a key it pauses. Empty: plain files.
  KeyLookup keys;
  // How long a camera's backlog waits for this node to record that camera (it may have
  // taken the camera a moment before knowing it records it) before it is let go.
  std::chrono::milliseconds backlog_grace{5'000};
  // How long a camera that moved to another node is still recorded here while it pushes
  // here (it moves at its next keyframe, once the new node answers: Recorded::moving).
  std::chrono::milliseconds hand_over_grace{10'000};
};

// Events-only recording: what lies around events is kept, from pre_roll before each one
// began to post_roll after it ended; the rest of the stream is never written.
struct EventWindow {
  std::chrono::seconds pre_roll{5}, post_roll{10};
  std::chrono::seconds longest{600};  // an event that never says it ended ends after this
  bool operator==(const EventWindow&) const = default;
};

struct RecorderStats {
  uint64_t fragments = 0, bytes = 0, media_bytes = 0, segments = 0, write_errors = 0;
  bool live = false;    // the camera's stream is coming in (RecordingService fills it)
  bool paused = false;  // writing stopped: the store is full or failing
  std::string pause_reason;
};

// One camera's stream into segments. Not thread-safe: one caller at a time.
class StreamRecorder {
 public:
  StreamRecorder(Store& store, Catalog& catalog, RecorderOptions options, std::string device_id,
                 std::string serial);
  ~StreamRecorder();  // finishes

  // The stream (re)starts: its info, for the fragments to come. A new run begins.
  void begin(const media::hub::StreamInfo& info);
  void push(const media::hub::FramePtr& frame);
  // The stream ended: the last fragment is written and the segment closed.
  void finish();
  // Saves the index if it is due; retries a paused recorder. Called now and then.
  void tick();
  // Events only from now on (nullopt: everything, the default).
  void set_events_only(std::optional<EventWindow> window);
  // An event on the camera began (active) or ended, at this wall-clock time (ms).
  void event(int64_t at_ms, bool active);
  const RecorderStats& stats() const { return stats_; }

 private:
  void write(Fragment&& fragment);
  // Events only: keeps the fragment for a later event's pre-roll, or writes it (after the
  // pre-roll it completes) when an event wants it.
  void gate(Fragment&& fragment);
  void store_fragment(Fragment&& fragment);
  bool open_segment(const Fragment& first);
  void close_segment();
  void pause(const std::string& why);

  Store& store_;
  Catalog& catalog_;
  RecorderOptions options_;
  std::string device_id_, serial_;
  std::unique_ptr<Fragmenter> fragmenter_;
  std::string run_id_;
  int64_t run_start_us_ = 0;  // wall clock of the run's tick 0
  std::optional<Segment> segment_;
  std::optional<keys::Key> key_;  // the open segment's, when sealed
  std::optional<EventWindow> events_only_;
  std::deque<std::pair<int64_t, int64_t>> windows_;  // wall ms [from, to) to keep
  std::deque<Fragment> pre_roll_;                    // latest fragments, none kept yet
  bool gated_out_ = false;  // fragments were left out since the last one written
  std::chrono::steady_clock::time_point last_save_{}, paused_at_{};
  RecorderStats stats_;
};

struct RecoveryReport {
  size_t segments = 0, fragments_found = 0, rows_dropped = 0, orphans_removed = 0;
  uint64_t bytes_cut = 0;
};

// Finishes the segments a crash left open: their files are scanned after the last indexed
// fragment, whole fragments are added, the partial tail is cut off, and the rows closed.
// Rows without a file go; files without a row (under the devices that have media) go too.
// Sealed segments are read with `keys`: one whose key is gone keeps what its index holds.
// Several nodes on one store: only the segments `ours` says this node may finish (its own,
// and those of nodes that are gone) are touched, and files without a row are looked for only
// when `alone` (another node may be between creating a row and its file).
struct RecoveryScope {
  std::function<bool(const std::string& writer)> ours;  // empty: every segment
  bool alone = true;
};
RecoveryReport recover(Store& store, Catalog& catalog, const KeyLookup& keys = {},
                       const RecoveryScope& scope = {});

class RecordingService {
 public:
  RecordingService(media::hub::Hub& hub, Store& store, Catalog& catalog, RecorderOptions options);
  ~RecordingService();

  struct Recorded {
    std::string serial;
    std::optional<EventWindow> events_only;  // nullopt: continuous
    std::string region;                      // where its files go; empty: options.region
    // Its stream now lives on another node: a recorder running here goes on while the
    // camera still pushes here (up to options.hand_over_grace), so the recording is cut
    // where the stream moved, at a keyframe; none is started.
    bool moving = false;
    bool operator==(const Recorded&) const = default;
  };
  // The devices to record now (by device id); the others stop.
  void set_recorded(const std::map<std::string, Recorded>& devices);
  // An event on the camera with this serial began (active) or ended, at at_ms (wall clock).
  void event(const std::string& serial, int64_t at_ms, bool active);
  std::map<std::string, RecorderStats> stats();
  // A stream was published (the hub's event, on the publisher's thread, before its first
  // frame). A camera's backlog (backlog/{serial}: what it kept while no node took its stream)
  // is recorded, if this node records that camera (now or within options.backlog_grace), into a
  // segment of its own, every frame of it: it is subscribed to here, before anything could
  // be missed.
  void on_published(const std::string& path);
  // Past this much media, a backlog is cut off (a camera cannot fill the store through it).
  static constexpr uint64_t kMaxBacklogBytes = 64ull << 20;

 private:
  void run();
  struct Entry {
    std::string serial, region;
    std::unique_ptr<StreamRecorder> recorder;
    std::unique_ptr<media::hub::Subscription> subscription;
    std::optional<std::chrono::steady_clock::time_point> moving_since;
  };
  struct Backlog {
    std::string serial;
    std::chrono::steady_clock::time_point since;
    std::string device;  // once it is known to be recorded here
    Recorded recorded;
    std::unique_ptr<media::hub::Subscription> subscription;
    std::unique_ptr<StreamRecorder> recorder;
    uint64_t bytes = 0;
  };
  // The worker's: records the backlogs, finishing those that ended.
  void record_backlogs(const std::map<std::string, Recorded>& wanted,
                       std::vector<Backlog>& backlogs, std::vector<media::hub::FramePtr>& frames);
  media::hub::Hub& hub_;
  Store& store_;
  Catalog& catalog_;
  RecorderOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false, stopping_ = false;
  std::map<std::string, Recorded> wanted_;  // set_recorded's, applied by the worker
  uint64_t wanted_version_ = 0, applied_version_ = 0;
  std::condition_variable applied_;
  struct Event {
    std::string serial;
    int64_t at_ms;
    bool active;
  };
  std::vector<Event> events_;          // for the worker
  std::vector<Backlog> new_backlogs_;  // subscribed to, for the worker
  std::map<std::string, RecorderStats> stats_;
  std::thread thread_;
};

}  // namespace nj::recording
