#include "app/recording_jobs.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace nj::app {

RecordingJobs::RecordingJobs(recording::Plans& plans, recording::RecordingService& recorder,
                             device::StreamDemand& demand, recording::Catalog& catalog,
                             recording::Store& store, const Clock& clock, Gauges gauges,
                             StorageHandler on_storage, RegionOf region_of, Here here)
    : on_storage_(std::move(on_storage)),
      region_of_(std::move(region_of)),
      here_(std::move(here)),
      plans_(plans),
      recorder_(recorder),
      demand_(demand),
      catalog_(catalog),
      store_(store),
      clock_(clock),
      gauges_(gauges) {
  step(true);  // at once: recording resumes as the server starts
  thread_ = std::thread([this] { run(); });
}

RecordingJobs::~RecordingJobs() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RecordingJobs::set_periodic_reap(std::function<bool()> may) {
  std::lock_guard lock(mu_);
  may_reap_ = std::move(may);
}

void RecordingJobs::refresh() {
  {
    std::lock_guard lock(mu_);
    step_requested_ = true;
  }
  cv_.notify_all();
}

void RecordingJobs::reap_now() {
  {
    std::lock_guard lock(mu_);
    reap_requested_ = true;
  }
  cv_.notify_all();
}

void RecordingJobs::step(bool reap_now) {
  std::map<std::string, recording::RecordingService::Recorded> recorded;
  std::set<std::string> kept_on;
  const auto recording_now = recorder_.stats();
  for (const auto& [device_id, entry] : plans_.all_in_force()) {
    const auto& [serial, plan] = entry;
    // Recorded by the node its stream lives on; one recorded here that has just moved away
    // is recorded here until the camera leaves, so the recording moves where the stream
    // does. The others' cameras are not named at all (a node's list stays its own).
    const bool moving = here_ && !here_(serial);
    if (moving && !recording_now.contains(device_id)) continue;
    auto& r = recorded[device_id];
    r.serial = serial;
    r.moving = moving;
    if (region_of_) r.region = region_of_(device_id);
    if (plan.plan.mode == "events") {
      r.events_only = recording::EventWindow{std::chrono::seconds(plan.plan.pre_roll_s),
                                             std::chrono::seconds(plan.plan.post_roll_s)};
    }
    // Streaming all along, in both modes: an event's pre-roll is what came before it.
    if (!r.moving) kept_on.insert(serial);
  }
  recorder_.set_recorded(recorded);
  demand_.set_kept_on("recording", std::move(kept_on));
  // What the recorders did (a paused one is logged when it pauses; here it is counted).
  double running = 0, paused = 0, errors = 0, bytes = 0;
  std::set<std::string> told;
  for (const auto& [device, stats] : recorder_.stats()) {
    ++running;
    paused += stats.paused ? 1 : 0;
    if (const auto r = recorded.find(device); on_storage_ && r != recorded.end()) {
      on_storage_(r->second.serial, stats.paused && stats.pause_reason == "the store is full");
      told.insert(r->second.serial);
    }
    errors += static_cast<double>(stats.write_errors);
    bytes += static_cast<double>(stats.bytes);
  }
  for (const auto& serial : storage_told_) {  // no longer recorded: nothing is full for it
    if (!told.contains(serial) && on_storage_) on_storage_(serial, false);
  }
  storage_told_ = std::move(told);
  gauges_.recording.set(running);
  gauges_.paused.set(paused);
  gauges_.write_errors.set(errors);
  gauges_.bytes.set(bytes);
  if (reap_now) {
    const auto reaped = recording::reap(catalog_, store_, plans_, clock_);
    if (reaped.segments > 0) {
      spdlog::info("recording.reaped segments={} bytes={}", reaped.segments, reaped.bytes);
    }
  }
}

void RecordingJobs::run() {
  std::unique_lock lock(mu_);
  auto next_reap = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (true) {
    cv_.wait_for(lock, std::chrono::seconds(5),
                 [this] { return stopping_ || reap_requested_ || step_requested_; });
    if (stopping_) break;
    const bool requested = std::exchange(reap_requested_, false);
    step_requested_ = false;
    const auto may_reap = may_reap_;
    lock.unlock();
    bool reap = requested;
    if (std::chrono::steady_clock::now() >= next_reap) {
      next_reap = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      reap = reap || !may_reap || may_reap();
    }
    step(reap);
    lock.lock();
  }
}

}  // namespace nj::app
