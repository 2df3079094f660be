// Reading the bit fields of video parameter sets (H.264 and H.265): fixed-width fields MSB
// first and Exp-Golomb codes. Reading past the end sets failed(); values read are then 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nj::media::codec {

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}
  uint32_t bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= data_.size() * 8) {
        failed_ = true;
        return 0;
      }
      v = (v << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1);
      ++pos_;
    }
    return v;
  }
  uint32_t ue() {  // Exp-Golomb, unsigned
    int zeros = 0;
    while (!failed_ && bits(1) == 0) {
      if (++zeros > 31) {
        failed_ = true;
        return 0;
      }
    }
    return zeros == 0 ? 0 : ((1u << zeros) - 1 + bits(zeros));
  }
  int32_t se() {
    const uint32_t v = ue();
    return (v & 1) ? static_cast<int32_t>((v + 1) / 2) : -static_cast<int32_t>(v / 2);
  }
  bool failed() const { return failed_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace nj::media::codec
