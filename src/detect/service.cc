#include "detect/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "device_protocol/json_input.h"

namespace nj::detect {
namespace {

using store::Value;
using Clock = std::chrono::steady_clock;

DetectionSettings read_stored(const std::string& text) {
  // Stored after read_detection accepted it; read back the same way.
  auto j = device_protocol::parse_json(text, {64 * 1024, 6});
  if (!j) return {};
  auto s = read_detection(*j);
  return s ? *s : DetectionSettings{};
}

}  // namespace

DetectionSettings SettingsStore::get(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  auto rows = db_.query("SELECT settings FROM detection_settings WHERE device_id = $1", p);
  if (!rows || rows->empty()) return {};
  return read_stored(rows->front().text(0));
}

bool SettingsStore::save(std::string_view device_id, const DetectionSettings& s) {
  const Value p[] = {std::string(device_id), to_json(s).dump()};
  return db_
      .execute(
          "INSERT INTO detection_settings (device_id, settings) VALUES ($1, $2) "
          "ON CONFLICT (device_id) DO UPDATE SET settings = excluded.settings",
          p)
      .has_value();
}

std::map<std::string, DetectionSettings> SettingsStore::enabled() {
  std::map<std::string, DetectionSettings> out;
  auto rows = db_.query(
      "SELECT d.serial, s.settings FROM detection_settings s JOIN devices d ON d.id = s.device_id "
      "WHERE d.owner_id IS NOT NULL");
  if (!rows) return out;
  for (const auto& r : *rows) {
    auto s = read_stored(r.text(1));
    if (s.enabled) out.emplace(r.text(0), std::move(s));
  }
  return out;
}

void SettingsStore::forget(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM detection_settings WHERE device_id = $1", p);
}

DetectionService::DetectionService(media::hub::Hub& hub, Enabled enabled, KeepOn keep_on,
                                   Report report, DetectOptions options)
    : hub_(hub),
      enabled_(std::move(enabled)),
      keep_on_(std::move(keep_on)),
      report_(std::move(report)),
      options_(options) {
  thread_ = std::thread([this] { loop(); });
}

DetectionService::~DetectionService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DetectionService::refresh() {
  {
    std::lock_guard lock(mu_);
    refresh_ = true;
  }
  cv_.notify_all();
}

int person_check_every(bool person_seen, int empty_checks, int max) {
  if (person_seen) return 2;
  return std::clamp(empty_checks, 1, std::max(1, max));
}

DetectionService::Stats DetectionService::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void DetectionService::end(Camera& c) {
  if (c.person) report_(c.serial, "person", false, 0, {});
  if (c.moving) report_(c.serial, "motion", false, 0, c.zones);
  c.person = c.moving = false;
  c.zones.clear();
}

void DetectionService::loop() {
  auto next_refresh = Clock::now();
  for (;;) {
    bool refresh = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_ || refresh_; });
      if (stopping_) break;
      refresh = refresh_ || Clock::now() >= next_refresh;
      refresh_ = false;
    }
    if (refresh) {
      next_refresh = Clock::now() + std::chrono::seconds(2);
      auto wanted = enabled_();
      std::set<std::string> serials;
      for (auto it = cameras_.begin(); it != cameras_.end();) {
        const auto w = wanted.find(it->first);
        if (w == wanted.end()) {  // turned off, or unbound
          end(it->second);
          it = cameras_.erase(it);
          continue;
        }
        if (to_json(w->second) != to_json(it->second.settings)) {  // new zones or thresholds
          it->second.settings = w->second;
          it->second.motion = std::make_unique<MotionDetector>(w->second);
        }
        ++it;
      }
      for (auto& [serial, settings] : wanted) {
        serials.insert(serial);
        if (cameras_.contains(serial)) continue;
        Camera c;
        c.serial = serial;
        c.settings = settings;
        c.motion = std::make_unique<MotionDetector>(settings);
        cameras_.emplace(serial, std::move(c));
      }
      keep_on_(std::move(serials));
      std::lock_guard lock(mu_);
      stats_.cameras = cameras_.size();
    }
    const auto now = Clock::now();
    for (auto& [serial, c] : cameras_) watch(c, now);
  }
  for (auto& [serial, c] : cameras_) end(c);
}

void DetectionService::watch(Camera& c, Clock::time_point now) {
  const std::string path = "push/" + c.serial;
  if (!c.subscription && hub_.is_published(path)) {
    if (auto sub = hub_.subscribe(path, {})) {
      c.info = (*sub)->info();
      c.subscription = std::move(*sub);
      c.motion = std::make_unique<MotionDetector>(c.settings);  // a new stream: a new scene
    }
  }
  media::hub::FramePtr newest;
  if (c.subscription) {
    std::vector<media::hub::FramePtr> frames;
    c.subscription->queue().drain(frames);
    for (const auto& f : frames) {
      if (f->track == media::hub::TrackKind::kVideo && f->keyframe) newest = f;
    }
    if (c.subscription->queue().ended()) c.subscription.reset();  // the stream ended
  }
  int backoff = 1;
  {
    std::lock_guard lock(mu_);
    backoff = stats_.backoff;
  }
  if (newest) {
    if (now - c.last_analysed >= options_.min_interval * backoff) {
      analyse(c, newest, now);
    } else {
      std::lock_guard lock(mu_);
      ++stats_.deferred;
    }
  }
  // What stopped being seen ends, also when the pictures stop coming.
  if (c.person && now - c.last_person >= options_.quiet * 2) {
    c.person = false;
    report_(c.serial, "person", false, 0, {});
  }
  if (c.moving && now - c.last_motion >= options_.quiet) {
    if (c.person) {
      c.person = false;
      report_(c.serial, "person", false, 0, {});
    }
    c.moving = false;
    report_(c.serial, "motion", false, 0, c.zones);
    c.zones.clear();
    c.empty_checks = 0;
  }
}

void DetectionService::analyse(Camera& c, const media::hub::FramePtr& keyframe,
                               Clock::time_point now) {
  c.last_analysed = now;
  const auto started = Clock::now();
  const bool hevc = c.info.video_codec == "H265";
  const std::span<const uint8_t> sets[] = {c.info.vps, c.info.sps, c.info.pps};
  auto picture = media::snapshot::keyframe_to_gray(
      hevc ? media::snapshot::VideoCodec::kH265 : media::snapshot::VideoCodec::kH264,
      keyframe->data, sets, options_.width);
  bool checked_people = false;
  if (!picture)
    spdlog::debug("detect.undecodable serial={} error=\"{}\"", c.serial, picture.error());
  if (picture) {
    const auto verdict = c.motion->feed(*picture);
    if (verdict.moving) {
      c.last_motion = now;
      for (const auto& z : verdict.zones) {
        if (std::find(c.zones.begin(), c.zones.end(), z) == c.zones.end()) c.zones.push_back(z);
      }
      if (!c.moving) {
        c.moving = true;
        c.last_person_check = {};  // new motion: looked at for people at once
        report_(c.serial, "motion", true, std::min(1.0, verdict.area * 4), verdict.zones);
      }
      // HOG is the costly part (≈45 ms): looked for at once when motion begins, then less
      // often while the same motion goes on and no one is in it (a tree in the wind).
      const int every = person_check_every(c.person, c.empty_checks, options_.person_backoff_max);
      if (c.settings.person && now - c.last_person_check >= options_.person_interval * every) {
        c.last_person_check = now;
        checked_people = true;
        const auto people = people_.find(*picture, verdict.box);
        c.empty_checks = people.empty() ? c.empty_checks + 1 : 0;
        if (!people.empty()) {
          c.last_person = now;
          if (!c.person) {
            c.person = true;
            double best = 0;
            for (const auto& p : people) best = std::max(best, p.weight);
            report_(c.serial, "person", true, std::min(1.0, best / 4), verdict.zones);
          }
        }
      }
    }
  }
  const auto spent = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  std::lock_guard lock(mu_);
  ++stats_.analysed;
  if (checked_people) ++stats_.people_checks;
  if (!picture) ++stats_.decode_errors;
  // The share of a core spent over the last 10 s, and the back-off that keeps it under.
  spent_.emplace_back(now, spent);
  std::erase_if(spent_, [now](const auto& s) { return now - s.first > std::chrono::seconds(10); });
  std::chrono::microseconds total{0};
  for (const auto& s : spent_) total += s.second;
  stats_.busy_share = static_cast<double>(total.count()) / 10e6;
  if (stats_.busy_share > options_.max_core_share && stats_.backoff < 16) {
    stats_.backoff *= 2;
    spdlog::warn("detect.backoff share={:.2f} backoff={}", stats_.busy_share, stats_.backoff);
  } else if (stats_.busy_share < options_.max_core_share / 2 && stats_.backoff > 1) {
    stats_.backoff /= 2;
  }
}

}  // namespace nj::detect
