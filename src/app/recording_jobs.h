// What keeps cloud recording in step with the plans (issue #6): every few seconds, the
// devices with a plan in force are recorded (all of it, or around events only) and their
// streams kept on; every minute, the reaper deletes what no plan covers any more.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/clock.h"
#include "device/stream_demand.h"
#include "metrics/registry.h"
#include "recording/plans.h"
#include "recording/recorder.h"

namespace nj::app {

class RecordingJobs {
 public:
  // Figures for operations, updated at each step: recorders running and paused (a full
  // disk), segments written, write errors, and bytes recorded.
  struct Gauges {
    metrics::Gauge& recording;
    metrics::Gauge& paused;
    metrics::Gauge& write_errors;
    metrics::Gauge& bytes;
  };
  // Told at each step, for every recorded camera, whether its recording is paused for lack
  // of space (and once more with false when a camera stops being recorded).
  using StorageHandler = std::function<void(const std::string& serial, bool full)>;
  // The region each recorded camera's files go to (its owner's); empty: the recorder's own.
  using RegionOf = std::function<std::string(const std::string& device_id)>;
  // Several nodes: whether a camera's stream lives on this node, the only one that records
  // it (cluster::Placement); empty: every camera's does.
  using Here = std::function<bool(const std::string& serial)>;
  RecordingJobs(recording::Plans& plans, recording::RecordingService& recorder,
                device::StreamDemand& demand, recording::Catalog& catalog, recording::Store& store,
                const Clock& clock, Gauges gauges, StorageHandler on_storage = {},
                RegionOf region_of = {}, Here here = {});
  ~RecordingJobs();
  // Brings the next step forward (the nodes changed: which cameras are recorded here too).
  void refresh();
  // Brings the next step forward, with a reap (a device was unbound: its media go now).
  void reap_now();
  // Whether this node does the minute's reap (several nodes: one at a time, by lease); a reap
  // asked for by reap_now() always runs.
  void set_periodic_reap(std::function<bool()> may);

 private:
  void run();
  void step(bool reap_now);
  StorageHandler on_storage_;
  RegionOf region_of_;
  Here here_;
  std::set<std::string> storage_told_;  // the run thread's: serials told about
  recording::Plans& plans_;
  recording::RecordingService& recorder_;
  device::StreamDemand& demand_;
  recording::Catalog& catalog_;
  recording::Store& store_;
  const Clock& clock_;
  Gauges gauges_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool reap_requested_ = false;
  bool step_requested_ = false;
  std::function<bool()> may_reap_;
  std::thread thread_;
};

}  // namespace nj::app
