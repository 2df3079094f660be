#include "recording/recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/random.h"
#include "common/time.h"
#include "keys/records.h"
#include "media/fmp4/demux.h"
#include "recording/recovery.h"

namespace nj::recording {
namespace {

uint64_t total_size(const std::vector<FragmentEntry>& fragments) {
  uint64_t n = 0;
  for (const auto& f : fragments) n += f.size;
  return n;
}

// The record being written, sealed: one buffer per thread (the service's recorders share its
// worker thread), not one per camera, which would hold a fragment's size for each.
std::vector<uint8_t>& sealing_buffer() {
  thread_local std::vector<uint8_t> buffer;
  buffer.clear();
  return buffer;
}

uint64_t total_ticks(const std::vector<FragmentEntry>& fragments) {
  uint64_t n = 0;
  for (const auto& f : fragments) n += f.duration;
  return n;
}

}  // namespace

StreamRecorder::StreamRecorder(Store& store, Catalog& catalog, RecorderOptions options,
                               std::string device_id, std::string serial)
    : store_(store),
      catalog_(catalog),
      options_(std::move(options)),
      device_id_(std::move(device_id)),
      serial_(std::move(serial)) {}

StreamRecorder::~StreamRecorder() { finish(); }

void StreamRecorder::begin(const media::hub::StreamInfo& info) {
  finish();
  fragmenter_ = std::make_unique<Fragmenter>(info);
  run_id_ = random_hex_id();
  run_start_us_ = 0;
}

void StreamRecorder::push(const media::hub::FramePtr& frame) {
  if (!fragmenter_) return;
  auto fragment = fragmenter_->push(frame);
  if (run_start_us_ == 0) run_start_us_ = fragmenter_->start_wall_us();
  if (fragment) write(std::move(*fragment));
}

void StreamRecorder::finish() {
  if (fragmenter_) {
    for (auto& last : fragmenter_->flush()) write(std::move(last));
    fragmenter_.reset();
  }
  pre_roll_.clear();
  close_segment();
}

void StreamRecorder::set_events_only(std::optional<EventWindow> window) {
  if (window == events_only_) return;
  events_only_ = window;
  pre_roll_.clear();
  windows_.clear();
  if (window) {
    close_segment();  // what follows is kept around events only
    gated_out_ = true;
  }
}

void StreamRecorder::event(int64_t at_ms, bool active) {
  if (!events_only_) return;
  const int64_t pre = events_only_->pre_roll.count() * 1000;
  const int64_t post = events_only_->post_roll.count() * 1000;
  const int64_t longest = events_only_->longest.count() * 1000;
  const bool open = !windows_.empty() && windows_.back().second == INT64_MAX;
  if (active && !open) {
    windows_.emplace_back(at_ms - pre, INT64_MAX);
  } else if (!active && open) {
    windows_.back().second = std::min(at_ms, windows_.back().first + pre + longest) + post;
  }
}

// Wall-clock milliseconds of a point of the run's timeline.
static int64_t wall_ms(int64_t run_start_us, uint64_t ticks) {
  return (run_start_us + static_cast<int64_t>(ticks * 1000 / 90)) / 1000;
}

void StreamRecorder::write(Fragment&& fragment) {
  if (stats_.paused) return;
  if (events_only_) return gate(std::move(fragment));
  store_fragment(std::move(fragment));
}

void StreamRecorder::gate(Fragment&& fragment) {
  const int64_t from = wall_ms(run_start_us_, fragment.start_ticks);
  const int64_t to = wall_ms(run_start_us_, fragment.start_ticks + fragment.duration);
  // An event never closed is closed after the longest an event may last.
  const int64_t longest = (events_only_->pre_roll + events_only_->longest).count() * 1000;
  for (auto& w : windows_) {
    if (w.second == INT64_MAX && from - w.first > longest) {
      w.second = w.first + longest + events_only_->post_roll.count() * 1000;
    }
  }
  while (!windows_.empty() && windows_.front().second <= from) windows_.pop_front();
  const bool wanted = std::any_of(windows_.begin(), windows_.end(),
                                  [&](const auto& w) { return w.first < to && from < w.second; });
  if (!wanted) {
    if (segment_) close_segment();  // the event's recording ends here; a gap follows
    gated_out_ = true;
    pre_roll_.push_back(std::move(fragment));
    // Kept: enough for a pre-roll that starts at a keyframe, i.e. from the last keyframe
    // fragment at or before `pre_roll` ago (a long GOP spans several fragments).
    const int64_t keep_from = to - events_only_->pre_roll.count() * 1000;
    size_t cut = 0;
    for (size_t i = 1; i < pre_roll_.size(); ++i) {
      if (pre_roll_[i].keyframe && wall_ms(run_start_us_, pre_roll_[i].start_ticks) <= keep_from) {
        cut = i;
      }
    }
    pre_roll_.erase(pre_roll_.begin(), pre_roll_.begin() + static_cast<std::ptrdiff_t>(cut));
    return;
  }
  if (gated_out_ && !segment_) run_id_ = random_hex_id();  // each event's recording: its own run
  gated_out_ = false;
  // The pre-roll first, from the keyframe at or before where the event's window starts.
  const int64_t window_from = std::min_element(windows_.begin(), windows_.end())->first;
  size_t first = pre_roll_.size();
  for (size_t i = 0; i < pre_roll_.size(); ++i) {
    const int64_t f_to = wall_ms(run_start_us_, pre_roll_[i].start_ticks + pre_roll_[i].duration);
    if (f_to > window_from) {
      first = i;
      while (first > 0 && !pre_roll_[first].keyframe) --first;
      break;
    }
  }
  for (size_t i = first; i < pre_roll_.size(); ++i) store_fragment(std::move(pre_roll_[i]));
  pre_roll_.clear();
  store_fragment(std::move(fragment));
}

void StreamRecorder::store_fragment(Fragment&& fragment) {
  if (stats_.paused) return;
  if (segment_ && fragment.keyframe &&
      fragment.start_ticks - static_cast<uint64_t>(segment_->start_ticks) >=
          static_cast<uint64_t>(options_.segment_length.count()) * kTicksPerSecond) {
    close_segment();
  }
  if (!segment_) {
    if (!fragment.keyframe) return;  // a file starts at a keyframe
    if (!open_segment(fragment)) return;
  }
  std::span<const uint8_t> bytes = fragment.bytes;
  if (key_) {
    auto& sealed = sealing_buffer();
    keys::seal_record(*key_,
                      record_context(device_id_, segment_->id, segment_->fragments.size() + 1),
                      fragment.bytes, sealed);
    bytes = sealed;
  }
  if (auto ok = store_.append(segment_->store_key, bytes, options_.sync); !ok) {
    ++stats_.write_errors;
    pause(ok.error());
    return;
  }
  segment_->fragments.push_back(
      {fragment.duration, static_cast<uint32_t>(fragment.bytes.size()), fragment.keyframe});
  segment_->bytes += fragment.bytes.size();
  segment_->media_bytes += fragment.media_bytes;
  segment_->end_ms = wall_ms(run_start_us_, fragment.start_ticks + fragment.duration);
  ++stats_.fragments;
  stats_.bytes += bytes.size();
  stats_.media_bytes += fragment.media_bytes;
  if (std::chrono::steady_clock::now() - last_save_ >= options_.index_interval) {
    (void)catalog_.save(*segment_, false);
    last_save_ = std::chrono::steady_clock::now();
  }
}

bool StreamRecorder::open_segment(const Fragment& first) {
  if (store_.free_bytes_for(options_.region + "/") < options_.reserve_bytes) {
    pause("the store is full");
    return false;
  }
  const auto& init = fragmenter_->init();
  std::optional<BindingKey> key;
  if (options_.keys) {
    key = options_.keys(device_id_, true);
    // Never in the clear: without the binding's key nothing is written.
    if (!key) {
      pause("the camera's binding has no key");
      return false;
    }
  }
  Segment s;
  s.device_id = device_id_;
  s.region = options_.region;
  s.run_id = run_id_;
  s.start_ticks = static_cast<int64_t>(first.start_ticks);
  s.start_ms = wall_ms(run_start_us_, first.start_ticks);
  s.end_ms = s.start_ms;
  s.store_key = options_.region + "/" + serial_ + "/" + utc_day(s.start_ms) + "/" +
                std::to_string(s.start_ms) + "-" + random_hex_id().substr(0, 8) + ".mp4";
  s.init_size = init.size();
  s.bytes = init.size();
  if (key) s.key_generation = key->generation;
  // The row first: a file never exists without one (docs/recording.md).
  auto id = catalog_.create(s);
  if (!id) {
    pause("the index cannot be written: " + id.error().message);
    return false;
  }
  s.id = *id;
  std::span<const uint8_t> head = init;
  if (key) {
    auto& sealed = sealing_buffer();
    keys::seal_record(key->key, record_context(device_id_, s.id, 0), init, sealed);
    head = sealed;
  }
  if (auto ok = store_.append(s.store_key, head, false); !ok) {
    ++stats_.write_errors;
    (void)catalog_.remove(s.id);
    store_.remove(s.store_key);
    pause(ok.error());
    return false;
  }
  segment_ = std::move(s);
  key_ = key ? std::optional<keys::Key>(key->key) : std::nullopt;
  last_save_ = std::chrono::steady_clock::now();
  ++stats_.segments;
  return true;
}

void StreamRecorder::close_segment() {
  if (!segment_) return;
  if (segment_->fragments.empty()) {
    // Nothing but the init segment: no recording to keep.
    store_.close(segment_->store_key);
    (void)catalog_.remove(segment_->id);
    store_.remove(segment_->store_key);
  } else {
    if (auto saved = catalog_.save(*segment_, true); !saved) {
      spdlog::error("recording.index.failed device={} error=\"{}\"", device_id_,
                    saved.error().message);
    }
    store_.close(segment_->store_key);
  }
  segment_.reset();
  key_.reset();
}

void StreamRecorder::pause(const std::string& why) {
  if (segment_) {
    // Whatever part of a fragment got written goes; the file ends at its last whole one.
    (void)store_.truncate(segment_->store_key, stored_size(*segment_));
    close_segment();
  }
  stats_.paused = true;
  stats_.pause_reason = why;
  paused_at_ = std::chrono::steady_clock::now();
  spdlog::warn("recording.paused device={} reason=\"{}\"", device_id_, why);
}

void StreamRecorder::tick() {
  const auto now = std::chrono::steady_clock::now();
  if (segment_ && now - last_save_ >= options_.index_interval) {
    (void)catalog_.save(*segment_, false);
    last_save_ = now;
  }
  if (stats_.paused && now - paused_at_ >= options_.resume_check) {
    paused_at_ = now;
    if (store_.free_bytes_for(options_.region + "/") >= options_.reserve_bytes) {
      stats_.paused = false;
      stats_.pause_reason.clear();
      run_id_ = random_hex_id();  // a new run: the timeline shows the gap
      spdlog::info("recording.resumed device={}", device_id_);
    }
  }
}

namespace {

// A sealed segment a crash left open: its records after the index are opened one by one and
// kept while each is a whole fragment; the file is cut after the last. Without its key (the
// binding ended) nothing can be checked: what the index holds is kept, for the reaper.
void recover_sealed(Store& store, Catalog& catalog, Segment& s, uint64_t size,
                    const KeyLookup& keys, RecoveryReport& report, const auto& drop) {
  std::optional<keys::Key> key;
  if (keys) {
    auto found = keys(s.device_id, false);
    if (found && found->generation == *s.key_generation) key = found->key;
  }
  uint64_t indexed_end = stored_size(s);
  if (!key) {
    if (s.fragments.empty() || indexed_end > size) return drop();
  } else {
    std::vector<uint8_t> plain;
    auto head = store.read(s.store_key, 0, s.init_size + keys::kRecordOverhead);
    if (!head || !keys::open_record(*key, record_context(s.device_id, s.id, 0), *head, plain)) {
      return drop();
    }
    const auto init = media::fmp4::parse_init(plain);
    if (!init) return drop();
    if (indexed_end > size) {  // the index is ahead of the file: trust the file
      s.fragments.clear();
      s.bytes = s.init_size;
      indexed_end = stored_size(s);
    }
    while (indexed_end + keys::kRecordHeader <= size) {
      const auto header = store.read(s.store_key, indexed_end, keys::kRecordHeader);
      const auto plain_size = header ? keys::record_plain_size(*header) : std::nullopt;
      if (!plain_size || indexed_end + keys::kRecordOverhead + *plain_size > size) break;
      const auto record = store.read(s.store_key, indexed_end, keys::kRecordOverhead + *plain_size);
      if (!record ||
          !keys::open_record(*key, record_context(s.device_id, s.id, s.fragments.size() + 1),
                             *record, plain)) {
        break;
      }
      const auto scan = scan_fragments(plain, *init);
      if (scan.fragments.size() != 1 || scan.whole_bytes != plain.size()) break;
      s.fragments.push_back(scan.fragments.front());
      s.bytes += plain.size();
      ++report.fragments_found;
      indexed_end += record->size();
    }
    if (s.fragments.empty()) return drop();
  }
  if (indexed_end < size) {
    (void)store.truncate(s.store_key, indexed_end);
    report.bytes_cut += size - indexed_end;
  }
  s.end_ms = s.start_ms + static_cast<int64_t>(total_ticks(s.fragments) / 90);
  (void)catalog.save(s, true);
}

}  // namespace

RecoveryReport recover(Store& store, Catalog& catalog, const KeyLookup& keys,
                       const RecoveryScope& scope) {
  RecoveryReport report;
  for (auto s : catalog.open_segments()) {
    if (scope.ours && !scope.ours(s.writer)) continue;  // a live node is writing it
    const auto size = store.size(s.store_key);
    // Out of reach (an object store's outage) is not gone: tried again at the next recovery.
    if (!size && !size.error().starts_with(kNoFile)) continue;
    ++report.segments;
    auto drop = [&] {
      store.remove(s.store_key);
      (void)catalog.remove(s.id);
      ++report.rows_dropped;
    };
    if (s.key_generation) {
      if (!size) {
        drop();
      } else {
        recover_sealed(store, catalog, s, *size, keys, report, drop);
      }
      continue;
    }
    if (!size || *size < s.init_size || s.init_size == 0) {
      drop();
      continue;
    }
    const auto init_bytes = store.read(s.store_key, 0, s.init_size);
    const auto init = init_bytes ? media::fmp4::parse_init(*init_bytes)
                                 : Result<media::fmp4::DemuxInit, media::fmp4::DemuxError>(
                                       Unexpected(media::fmp4::DemuxError::kTruncated));
    if (!init) {
      drop();
      continue;
    }
    uint64_t indexed_end = s.init_size + total_size(s.fragments);
    if (indexed_end > *size) {  // the index is ahead of the file: trust the file
      s.fragments.clear();
      indexed_end = s.init_size;
    }
    const auto tail = store.read(s.store_key, indexed_end, *size - indexed_end);
    if (tail) {
      const auto scan = scan_fragments(*tail, *init);
      s.fragments.insert(s.fragments.end(), scan.fragments.begin(), scan.fragments.end());
      report.fragments_found += scan.fragments.size();
      indexed_end += scan.whole_bytes;
    }
    if (s.fragments.empty()) {
      drop();
      continue;
    }
    if (indexed_end < *size) {
      (void)store.truncate(s.store_key, indexed_end);
      report.bytes_cut += *size - indexed_end;
    }
    s.bytes = indexed_end;
    s.end_ms = s.start_ms + static_cast<int64_t>(total_ticks(s.fragments) / 90);
    (void)catalog.save(s, true);
  }
  // Files without a row, beside the devices' recordings (a deletion that did not finish).
  if (!scope.alone) return report;
  std::set<std::string> known, prefixes;
  for (const auto& device : catalog.devices_with_media()) {
    for (const auto& s : catalog.of_device(device)) {
      known.insert(s.store_key);
      const auto second = s.store_key.find('/', s.store_key.find('/') + 1);
      if (second != std::string::npos) prefixes.insert(s.store_key.substr(0, second + 1));
    }
  }
  for (const auto& prefix : prefixes) {
    for (const auto& key : store.list(prefix)) {
      if (!known.contains(key) && key.ends_with(".mp4")) {
        store.remove(key);
        ++report.orphans_removed;
      }
    }
  }
  return report;
}

RecordingService::RecordingService(media::hub::Hub& hub, Store& store, Catalog& catalog,
                                   RecorderOptions options)
    : hub_(hub), store_(store), catalog_(catalog), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

RecordingService::~RecordingService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  applied_.notify_all();
  thread_.join();
}

void RecordingService::set_recorded(const std::map<std::string, Recorded>& devices) {
  std::unique_lock lock(mu_);
  wanted_ = devices;
  woken_ = true;
  const uint64_t mine = ++wanted_version_;
  wake_.notify_all();
  // Until the worker has applied it: a recorder it stops has finished (and indexed) its last
  // segment by then, so a reap that follows (unbind, a plan's end) sees that segment too.
  applied_.wait_for(lock, std::chrono::seconds(10),
                    [&] { return applied_version_ >= mine || stopping_; });
}

void RecordingService::event(const std::string& serial, int64_t at_ms, bool active) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= 10'000) return;  // a flood from a broken camera: dropped
    events_.push_back({serial, at_ms, active});
    woken_ = true;
  }
  wake_.notify_all();
}

void RecordingService::on_published(const std::string& path) {
  constexpr std::string_view kBacklog = "backlog/";
  if (!path.starts_with(kBacklog)) return;
  Backlog b;
  b.serial = path.substr(kBacklog.size());
  b.since = std::chrono::steady_clock::now();
  // A queue that holds all a backlog may be, drained by the worker every 100 ms. Taken
  // even if the camera is not recorded here yet: its node may only be about to start.
  auto sub = hub_.subscribe(
      path, {}, media::hub::Packaging::kNone,
      media::hub::QueueLimits{.max_frames = 1'000'000, .max_bytes = kMaxBacklogBytes});
  if (!sub) return;
  b.subscription = std::move(*sub);
  spdlog::info("recording.backlog.start serial={}", b.serial);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    new_backlogs_.push_back(std::move(b));
    woken_ = true;
  }
  wake_.notify_all();
}

void RecordingService::record_backlogs(const std::map<std::string, Recorded>& wanted,
                                       std::vector<Backlog>& backlogs,
                                       std::vector<media::hub::FramePtr>& frames) {
  for (auto it = backlogs.begin(); it != backlogs.end();) {
    auto& b = *it;
    if (!b.recorder) {
      for (const auto& [device, recorded] : wanted) {
        if (recorded.serial == b.serial && !recorded.moving) {
          b.device = device;
          b.recorded = recorded;
        }
      }
      if (b.device.empty()) {
        // Not recorded here: unless it is within moments (the node took the camera and
        // is about to record it), the backlog goes nowhere.
        if (std::chrono::steady_clock::now() - b.since > options_.backlog_grace) {
          spdlog::info("recording.backlog.unwanted serial={}", b.serial);
          it = backlogs.erase(it);
        } else {
          ++it;
        }
        continue;
      }
      auto options = options_;
      if (!b.recorded.region.empty()) options.region = b.recorded.region;
      b.recorder =
          std::make_unique<StreamRecorder>(store_, catalog_, options, b.device, b.recorded.serial);
      b.recorder->set_events_only(b.recorded.events_only);
      b.recorder->begin(b.subscription->info());
    }
    // Ended before the drain: every frame it had is in this drain.
    const bool ended = b.subscription->queue().ended();
    frames.clear();
    b.subscription->queue().drain(frames);
    // Placed by the camera's clock (its sender reports), which must say something near now:
    // a backlog is at most minutes old, never from the future beyond a clock's skew.
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    bool refused = false;
    for (const auto& f : frames) {
      b.bytes += f->data.size();
      if (b.bytes > kMaxBacklogBytes) break;
      if (f->capture_us == 0 || f->capture_us < now_us - 15 * 60'000'000LL ||
          f->capture_us > now_us + 60'000'000LL) {
        refused = true;
        break;
      }
      b.recorder->push(f);
    }
    b.recorder->tick();
    const bool too_long = b.bytes > kMaxBacklogBytes;
    if (too_long || refused || ended || b.subscription->queue().dropped_frames() > 0) {
      if (too_long) spdlog::warn("recording.backlog.too_long serial={}", b.serial);
      if (refused) spdlog::warn("recording.backlog.out_of_time serial={}", b.serial);
      b.recorder->finish();
      spdlog::info("recording.backlog.done serial={} bytes={} segments={}", b.serial, b.bytes,
                   b.recorder->stats().segments);
      it = backlogs.erase(it);
    } else {
      ++it;
    }
  }
}

std::map<std::string, RecorderStats> RecordingService::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

// One worker for every recorded camera. It polls (every 100 ms) rather than being woken per
// frame: recording needs no low latency, and 200 cameras would mean 5,000 wake-ups a second.
void RecordingService::run() {
  std::map<std::string, Entry> entries;
  std::vector<Backlog> backlogs;
  std::vector<media::hub::FramePtr> frames;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return woken_ || stopping_; });
    woken_ = false;
    if (stopping_) break;
    const auto wanted = wanted_;
    const uint64_t version = wanted_version_;
    const auto events = std::exchange(events_, {});
    for (auto& b : new_backlogs_) backlogs.push_back(std::move(b));
    new_backlogs_.clear();
    lock.unlock();
    // A backlog of a camera no longer recorded here ends with it (before a reap may follow).
    std::erase_if(backlogs, [&](const Backlog& b) {
      if (b.device.empty()) return false;  // not begun
      const auto w = wanted.find(b.device);
      return w == wanted.end() || w->second.serial != b.recorded.serial;
    });
    const auto now = std::chrono::steady_clock::now();
    for (auto it = entries.begin(); it != entries.end();) {
      auto& e = it->second;
      const auto w = wanted.find(it->first);
      bool stop = w == wanted.end() || w->second.serial != e.serial ||
                  w->second.region != e.region;  // a region move: new files go there
      if (!stop && w->second.moving) {
        // Moved to another node: done once the camera has left (its stream here ended) or
        // has not within the grace.
        if (!e.moving_since) e.moving_since = now;
        stop = !e.subscription || now - *e.moving_since >= options_.hand_over_grace;
      } else if (!stop) {
        e.moving_since.reset();  // back before it left
      }
      if (stop) {
        e.subscription.reset();
        e.recorder.reset();  // finishes its segment
        it = entries.erase(it);
      } else {
        ++it;
      }
    }
    {
      std::lock_guard applied(mu_);
      applied_version_ = version;
    }
    applied_.notify_all();
    for (const auto& [device, recorded] : wanted) {
      if (recorded.moving && !entries.contains(device)) continue;  // recorded where it lives
      auto& e = entries[device];
      if (!e.recorder) {
        e.serial = recorded.serial;
        e.region = recorded.region;
        auto options = options_;
        if (!recorded.region.empty()) options.region = recorded.region;
        e.recorder =
            std::make_unique<StreamRecorder>(store_, catalog_, options, device, recorded.serial);
      }
      e.recorder->set_events_only(recorded.events_only);
    }
    for (const auto& ev : events) {
      for (auto& [device, e] : entries) {
        if (e.serial == ev.serial) e.recorder->event(ev.at_ms, ev.active);
      }
      for (auto& b : backlogs) {
        if (b.serial == ev.serial && b.recorder) b.recorder->event(ev.at_ms, ev.active);
      }
    }
    record_backlogs(wanted, backlogs, frames);
    std::map<std::string, RecorderStats> snapshot;
    for (auto& [device, e] : entries) {
      if (!e.subscription && !e.moving_since) {
        if (auto sub = hub_.subscribe("push/" + e.serial, {})) {
          e.subscription = std::move(*sub);
          e.recorder->begin(e.subscription->info());
        }
      }
      if (e.subscription) {
        const bool ended = e.subscription->queue().ended();  // then this drain has it all
        frames.clear();
        e.subscription->queue().drain(frames);
        for (const auto& f : frames) e.recorder->push(f);
        if (ended) {
          e.recorder->finish();
          e.subscription.reset();
        }
      }
      e.recorder->tick();
      snapshot[device] = e.recorder->stats();
      snapshot[device].live = e.subscription != nullptr;
    }
    lock.lock();
    stats_ = std::move(snapshot);
  }
  new_backlogs_.clear();
  lock.unlock();
  entries.clear();  // each recorder finishes its segment
  backlogs.clear();
}

}  // namespace nj::recording
