#include "sd_card.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <fstream>

#include "media/fmp4/live.h"

namespace nj::cam {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "{start}-{end}.mp4" → the two times; nullopt for any other name (so a request can never
// name a path outside the card).
std::optional<std::pair<int64_t, int64_t>> parse_name(std::string_view name) {
  if (!name.ends_with(".mp4")) return std::nullopt;
  name.remove_suffix(4);
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  int64_t a = 0, b = 0;
  const auto first = name.substr(0, dash), second = name.substr(dash + 1);
  auto r1 = std::from_chars(first.data(), first.data() + first.size(), a);
  auto r2 = std::from_chars(second.data(), second.data() + second.size(), b);
  if (r1.ec != std::errc() || r1.ptr != first.data() + first.size() || r2.ec != std::errc() ||
      r2.ptr != second.data() + second.size() || b < a) {
    return std::nullopt;
  }
  return std::make_pair(a, b);
}

}  // namespace

struct SdCard::Current {
  std::filesystem::path file;
  std::ofstream out;
  media::fmp4::LiveMuxer muxer;
  int64_t start_ms = 0, last_ms = 0;
  std::chrono::steady_clock::time_point opened;
  explicit Current(const media::hub::StreamInfo& info) : muxer(info) {}
};

SdCard::SdCard(media::hub::Hub& hub, std::string path, SdOptions options)
    : hub_(hub), path_(std::move(path)), options_(std::move(options)) {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  // Short (the protocol takes 64 bytes) and without the camera's own paths.
  if (ec) health_ = ("cannot use the card: " + ec.message()).substr(0, 64);
  // A file left open by a crash ("{start}-rec.mp4") keeps what it holds under its own name.
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with("-rec.mp4")) {
      const auto start = name.substr(0, name.size() - 8);
      const auto mtime =
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::file_clock::to_sys(entry.last_write_time(ec)).time_since_epoch())
              .count();
      int64_t start_ms = 0;
      auto [end, parsed] = std::from_chars(start.data(), start.data() + start.size(), start_ms);
      if (parsed != std::errc() || end != start.data() + start.size()) {
        std::filesystem::remove(entry.path(), ec);  // not one of ours
        continue;
      }
      // Its end is when it was last written (never before its start, whatever the clock did).
      const int64_t end_ms = std::max<int64_t>(mtime, start_ms);
      std::filesystem::rename(entry.path(),
                              options_.dir / (start + "-" + std::to_string(end_ms) + ".mp4"), ec);
    }
  }
  thread_ = std::thread([this] { run(); });
}

SdCard::~SdCard() {
  stopping_ = true;
  wake();
  thread_.join();
  std::lock_guard lock(mu_);
  close_current();
}

void SdCard::wake() {
  std::lock_guard lock(wake_mu_);
  woken_ = true;
  wake_.notify_all();
}

// The recorder. The hub is never called with mu_ held: the hub calls wake() under its own
// stream lock, so holding mu_ across subscribe or unsubscribe could deadlock.
void SdCard::run() {
  std::unique_ptr<media::hub::Subscription> sub;
  std::vector<media::hub::FramePtr> frames;
  while (!stopping_) {
    if (!sub) {
      auto s = hub_.subscribe(path_, [this] { wake(); });
      if (s) sub = std::move(*s);
    }
    {
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return woken_ || stopping_; });
      woken_ = false;
    }
    if (stopping_) break;
    bool format = false;
    {
      std::lock_guard lock(mu_);
      format = format_requested_;
      if (format) {
        close_current();
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
          if (entry.path().extension() == ".mp4") std::filesystem::remove(entry.path(), ec);
        }
        format_requested_ = false;
      }
    }
    if (format) {
      sub.reset();  // start again at the next keyframe
      continue;
    }
    if (!sub) continue;
    frames.clear();
    sub->queue().drain(frames);
    const bool ended = sub->queue().ended();
    {
      std::lock_guard lock(mu_);
      for (const auto& f : frames) write_frame(*f, sub->info());
      if (ended) close_current();
    }
    if (ended) sub.reset();
  }
}

void SdCard::write_frame(const media::hub::Frame& frame, const media::hub::StreamInfo& info) {
  const bool key = frame.track == media::hub::TrackKind::kVideo && frame.keyframe;
  if (current_ && key && std::chrono::steady_clock::now() - current_->opened >= options_.segment) {
    close_current();
  }
  if (!current_) {
    if (!key) return;  // a file starts at a keyframe
    current_ = std::make_unique<Current>(info);
    current_->start_ms = wall_ms();
    current_->opened = std::chrono::steady_clock::now();
    current_->file = options_.dir / (std::to_string(current_->start_ms) + "-rec.mp4");
    current_->out.open(current_->file, std::ios::binary | std::ios::trunc);
    if (!current_->out) {
      health_ = "cannot write to the card";
      current_.reset();
      return;
    }
    health_ = "ok";
  }
  auto out = current_->muxer.push(frame);
  if (out.init)
    current_->out.write(reinterpret_cast<const char*>(out.init->data()),
                        static_cast<std::streamsize>(out.init->size()));
  current_->out.write(reinterpret_cast<const char*>(out.fragment.data()),
                      static_cast<std::streamsize>(out.fragment.size()));
  current_->last_ms = wall_ms();
  if (!current_->out) {
    health_ = "a write to the card failed";
    close_current();
  }
}

void SdCard::close_current() {
  if (!current_) return;
  current_->out.close();
  std::error_code ec;
  const auto done =
      options_.dir / (std::to_string(current_->start_ms) + "-" +
                      std::to_string(std::max(current_->last_ms, current_->start_ms)) + ".mp4");
  std::filesystem::rename(current_->file, done, ec);
  current_.reset();
  enforce_capacity();
}

uint64_t SdCard::used_bytes() const {
  uint64_t used = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    if (entry.is_regular_file(ec)) used += entry.file_size(ec);
  }
  return used;
}

// A ring: the oldest recordings go until the card holds no more than its capacity.
void SdCard::enforce_capacity() {
  auto recordings = list();
  uint64_t used = used_bytes();
  for (const auto& r : recordings) {
    if (used <= options_.capacity_bytes) break;
    std::error_code ec;
    std::filesystem::remove(options_.dir / r.name, ec);
    used -= std::min(used, r.bytes);
  }
}

std::vector<SdCard::Recording> SdCard::list() const {
  std::vector<Recording> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    const auto name = entry.path().filename().string();
    auto times = parse_name(name);
    if (!times) continue;
    out.push_back({name, times->first, times->second, entry.file_size(ec)});
  }
  std::sort(out.begin(), out.end(),
            [](const Recording& a, const Recording& b) { return a.start_ms < b.start_ms; });
  return out;
}

std::optional<std::pair<std::filesystem::path, int64_t>> SdCard::file_of(
    const std::string& name) const {
  const auto times = parse_name(name);
  if (!times) return std::nullopt;
  std::error_code ec;
  const auto file = options_.dir / name;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  return std::make_pair(file, times->first);
}

bool SdCard::remove(const std::string& name) {
  if (!parse_name(name)) return false;
  std::lock_guard lock(mu_);
  std::error_code ec;
  return std::filesystem::remove(options_.dir / name, ec) && !ec;
}

void SdCard::format() {
  {
    std::lock_guard lock(mu_);
    format_requested_ = true;
  }
  wake();
  // Wait until the recorder has done it, so that a list right after shows an empty card.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu_);
      if (!format_requested_) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool SdCard::settle_owner(const std::optional<std::string>& binding) {
  const auto marker = options_.dir / ".binding";
  std::string last;
  if (std::ifstream in(marker); in) std::getline(in, last);
  std::error_code ec;
  if (!binding) {
    // Nobody's: nothing of the last owner's stays for whoever comes next.
    const bool had = !last.empty() || !list().empty();
    if (had) format();
    std::filesystem::remove(marker, ec);
    return had;
  }
  const bool changed_hands = !last.empty() && last != *binding;
  if (changed_hands) format();
  if (last != *binding) {
    const auto tmp = options_.dir / ".binding.tmp";
    std::ofstream(tmp, std::ios::trunc) << *binding << "\n";
    std::filesystem::rename(tmp, marker, ec);
  }
  return changed_hands;
}

SdCard::State SdCard::state() const {
  std::lock_guard lock(mu_);
  return {options_.capacity_bytes, used_bytes(), health_};
}

}  // namespace nj::cam
