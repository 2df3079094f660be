// Puts RTP packets that came over UDP back in sequence order. Packets in order pass
// straight through without a copy; one that jumps ahead is held (copied) until the missing
// ones arrive, the window fills or the gap has waited too long: then the gap is given up
// and what was held goes on, so the depacketizer sees (and counts) the loss.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/packet.h"

namespace nj::media::rtp {

struct ReorderOptions {
  size_t window = 64;            // packets held at most (rounded up to a power of two)
  int64_t max_wait_us = 40'000;  // how long a gap may hold packets back
  ReorderOptions() = default;
  ReorderOptions(size_t w, int64_t wait_us) : window(w), max_wait_us(wait_us) {}
};

class ReorderBuffer {
 public:
  using Sink = std::function<void(const Packet&)>;
  using Options = ReorderOptions;
  struct Stats {
    uint64_t reordered = 0;  // arrived ahead of a missing one and were put back in order
    uint64_t late = 0;       // arrived after their gap was given up: dropped
    uint64_t duplicate = 0;  // dropped
    uint64_t skipped = 0;    // sequence numbers given up as lost
  };

  explicit ReorderBuffer(Sink sink, Options options = {});

  // One packet parsed from `bytes`, which arrived at now_us (a steady clock). Gaps are
  // only given up when a packet arrives (or on flush): a silent source holds nothing new.
  void push(std::span<const uint8_t> bytes, const Packet& packet, int64_t now_us);
  // Passes on everything held, in order (the end of a stream).
  void flush();
  size_t held() const { return held_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Slot {
    bool used = false;
    int64_t sequence = 0;
    int64_t arrived_us = 0;
    std::vector<uint8_t> bytes;
  };
  Slot& slot(int64_t sequence) {
    return slots_[static_cast<size_t>(sequence) & (slots_.size() - 1)];
  }
  // Emits held packets from next_ on while they are consecutive.
  void drain();
  // Gives up the gap at next_: moves to the first held packet and drains from there.
  void skip_gap();

  Sink sink_;
  Options options_;
  SequenceUnwrapper unwrapper_;
  std::optional<int64_t> next_;
  std::vector<Slot> slots_;
  size_t held_ = 0;
  int64_t gap_since_us_ = 0;  // arrival of the oldest packet held behind the current gap
  Stats stats_;
};

}  // namespace nj::media::rtp
