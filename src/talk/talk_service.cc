#include "talk/talk_service.h"

#include <algorithm>
#include <random>

namespace nj::talk {
namespace {

// RTP's SSRC, first sequence number and timestamp: random, as RFC 3550 asks.
uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint32_t>(rng());
}

}  // namespace

class TalkService::Attached final : public media::rtsp::TalkLines::Listener {
 public:
  Attached(TalkService& service, std::string serial, uint64_t id)
      : service_(service), serial_(std::move(serial)), id_(id) {}
  ~Attached() override { service_.detach(serial_, id_); }

 private:
  TalkService& service_;
  std::string serial_;
  uint64_t id_;
};

TalkService::Call::~Call() { service_.hang_up(serial_, id_, "", false); }

bool TalkService::Call::audio(std::span<const uint8_t> samples) {
  return service_.send(serial_, id_, samples);
}

TalkService::TalkService(const Clock& clock, StartCamera start, Record record)
    : clock_(clock), start_(std::move(start)), record_(std::move(record)) {}

TalkService::~TalkService() {
  std::lock_guard lock(life_->mu);
  life_->alive = false;
  std::lock_guard lines(mu_);
  for (auto& [serial, line] : lines_) {
    for (auto& [id, sink] : line.listeners) sink.ended();
  }
  lines_.clear();
}

void TalkService::set_starter(StartCamera start) {
  std::lock_guard lock(mu_);
  start_ = std::move(start);
}

CallRecord TalkService::record_of(const Holder& h) const {
  return {h.caller.device_id, h.caller.user_id, h.start_ms,
          std::max<int64_t>(0, clock_.now_ms() - h.start_ms)};
}

Result<std::unique_ptr<TalkService::Call>, Busy> TalkService::open(const Caller& caller, bool take,
                                                                   Handlers handlers) {
  std::optional<Holder> taken;
  std::function<void()> listening;
  StartCamera start;
  bool new_line = false;
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    start = start_;
    const int64_t now = clock_.now_ms();
    auto it = lines_.find(caller.serial);
    if (it != lines_.end()) {
      const Holder& h = it->second.holder;
      if (!(take && caller.owner)) return Unexpected(Busy{h.caller.label, h.caller.owner});
      taken = std::move(it->second.holder);
      id = next_id_++;
      it->second.holder = Holder{id, caller, std::move(handlers), now};
      it->second.tokens = kAheadSamples;
      it->second.tokens_at_ms = now;
      // The camera is listening already: the new holder is heard at once.
      if (!it->second.listeners.empty()) listening = it->second.holder.handlers.listening;
    } else {
      id = next_id_++;
      Line line;
      line.holder = Holder{id, caller, std::move(handlers), now};
      line.packetizer = std::make_unique<media::rtp::FramePacketizer>(
          0, random_u32(), static_cast<uint16_t>(random_u32()));
      line.rtp_timestamp = random_u32();
      line.tokens = kAheadSamples;
      line.tokens_at_ms = now;
      lines_.emplace(caller.serial, std::move(line));
      new_line = true;
    }
  }
  if (taken) {
    if (taken->handlers.ended) taken->handlers.ended("taken");
    if (record_) record_(record_of(*taken));
  }
  if (listening) listening();
  if (new_line && start) {
    start(caller.serial,
          [this, life = life_, serial = caller.serial, id](std::optional<std::string> error) {
            if (!error) return;
            std::lock_guard alive(life->mu);
            if (life->alive) hang_up(serial, id, "camera", true);
          });
  }
  return std::unique_ptr<Call>(new Call(*this, caller.serial, id));
}

void TalkService::hang_up(const std::string& serial, uint64_t id, std::string_view why, bool tell) {
  std::optional<Holder> gone;
  {
    std::lock_guard lock(mu_);
    auto it = lines_.find(serial);
    if (it == lines_.end() || it->second.holder.id != id) return;  // taken, or over already
    gone = std::move(it->second.holder);
    // The camera stops listening: its session closes.
    for (auto& [listener, sink] : it->second.listeners) sink.ended();
    lines_.erase(it);
  }
  if (tell && gone->handlers.ended) gone->handlers.ended(why);
  if (record_) record_(record_of(*gone));
}

void TalkService::end(const std::string& serial) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto it = lines_.find(serial);
    if (it == lines_.end()) return;
    id = it->second.holder.id;
  }
  hang_up(serial, id, "ended", true);
}

size_t TalkService::calls() const {
  std::lock_guard lock(mu_);
  return lines_.size();
}

bool TalkService::send(const std::string& serial, uint64_t id, std::span<const uint8_t> samples) {
  if (samples.empty() || samples.size() > kMaxFrameBytes) return false;
  std::lock_guard lock(mu_);
  auto it = lines_.find(serial);
  if (it == lines_.end() || it->second.holder.id != id) return false;
  Line& line = it->second;
  // At most real time, with a second's burst: a sender that runs ahead is cut, so a
  // camera's speaker never falls behind by more than that.
  const int64_t now = clock_.now_ms();
  line.tokens =
      std::min<int64_t>(kAheadSamples, line.tokens + (now - line.tokens_at_ms) * (kRate / 1000));
  line.tokens_at_ms = now;
  const auto n = static_cast<int64_t>(samples.size());
  if (n > line.tokens) return false;
  line.tokens -= n;
  // 100 ms per packet at most (800 bytes, well inside an RTP packet).
  constexpr size_t kChunk = 800;
  for (size_t at = 0; at < samples.size(); at += kChunk) {
    const auto chunk = samples.subspan(at, std::min(kChunk, samples.size() - at));
    line.packetizer->packetize(chunk, line.rtp_timestamp, [&](std::span<const uint8_t> packet) {
      auto shared = std::make_shared<const std::vector<uint8_t>>(packet.begin(), packet.end());
      for (auto& [listener, sink] : line.listeners) sink.packet(shared);
    });
    line.rtp_timestamp += static_cast<uint32_t>(chunk.size());
  }
  return true;
}

std::optional<media::rtsp::TalkLines::Format> TalkService::format(std::string_view serial) {
  std::lock_guard lock(mu_);
  if (!lines_.contains(std::string(serial))) return std::nullopt;
  return Format{"PCMU", kRate, 0};
}

std::unique_ptr<media::rtsp::TalkLines::Listener> TalkService::listen(
    std::string_view serial,
    std::function<void(std::shared_ptr<const std::vector<uint8_t>> packet)> packet,
    std::function<void()> ended) {
  std::function<void()> listening;
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto it = lines_.find(std::string(serial));
    if (it == lines_.end()) return nullptr;
    id = next_id_++;
    it->second.listeners.emplace(id, Sink{std::move(packet), std::move(ended)});
    listening = it->second.holder.handlers.listening;
  }
  if (listening) listening();
  return std::make_unique<Attached>(*this, std::string(serial), id);
}

void TalkService::detach(const std::string& serial, uint64_t listener) {
  std::lock_guard lock(mu_);
  auto it = lines_.find(serial);
  if (it != lines_.end()) it->second.listeners.erase(listener);
}

}  // namespace nj::talk
