#include "media/rtp/reorder.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace nj::media::rtp {

ReorderBuffer::ReorderBuffer(Sink sink, Options options)
    : sink_(std::move(sink)), options_(options) {
  options_.window = std::bit_ceil(std::clamp<size_t>(options_.window, 2, 4096));
  slots_.resize(options_.window);
}

void ReorderBuffer::push(std::span<const uint8_t> bytes, const Packet& packet, int64_t now_us) {
  const int64_t sequence = unwrapper_.unwrap(packet.sequence);
  if (!next_) next_ = sequence;
  const auto window = static_cast<int64_t>(slots_.size());
  if (sequence < *next_) {
    // Far behind is not a late packet but a sender that started over: follow it.
    if (*next_ - sequence > 4 * window) {
      flush();
      next_ = sequence;
    } else {
      ++stats_.late;
      return;
    }
  }
  if (sequence >= *next_ + 4 * window) {
    // Far ahead: a long loss or a new sender. Pass on what is held and follow.
    flush();
    stats_.skipped += static_cast<uint64_t>(sequence - *next_);
    next_ = sequence;
  }
  while (sequence >= *next_ + window) skip_gap();  // make room: the oldest gap goes
  if (sequence == *next_) {
    ++*next_;
    sink_(packet);
    drain();
  } else {
    Slot& s = slot(sequence);
    if (s.used && s.sequence == sequence) {
      ++stats_.duplicate;
      return;
    }
    assert(!s.used);
    s.used = true;
    s.sequence = sequence;
    s.arrived_us = now_us;
    s.bytes.assign(bytes.begin(), bytes.end());
    if (held_++ == 0) gap_since_us_ = now_us;
    ++stats_.reordered;
  }
  while (held_ > 0 && now_us - gap_since_us_ >= options_.max_wait_us) skip_gap();
}

void ReorderBuffer::drain() {
  while (held_ > 0) {
    Slot& s = slot(*next_);
    if (!s.used || s.sequence != *next_) break;
    s.used = false;
    --held_;
    ++*next_;
    // The bytes parsed once before; they still do.
    if (auto packet = parse(s.bytes)) sink_(*packet);
  }
  if (held_ > 0) {
    // A further gap: it has waited since the oldest packet still held behind it arrived.
    gap_since_us_ = INT64_MAX;
    for (const auto& s : slots_) {
      if (s.used) gap_since_us_ = std::min(gap_since_us_, s.arrived_us);
    }
  }
}

void ReorderBuffer::skip_gap() {
  if (held_ == 0) {
    ++*next_;
    ++stats_.skipped;
    return;
  }
  while (true) {
    const Slot& s = slot(*next_);
    if (s.used && s.sequence == *next_) break;
    ++*next_;
    ++stats_.skipped;
  }
  drain();
}

void ReorderBuffer::flush() {
  while (held_ > 0) skip_gap();
}

}  // namespace nj::media::rtp
