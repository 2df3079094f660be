// Short-lived stream tokens (DESIGN.md, RTSP): each is bound to one device serial and one
// purpose (push, play, talk) and expires. Stateless: HMAC-SHA-256 over the claims with a
// server key kept in DIR/keys/, so any node holding the key can check a token.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace nj::device {

// kSdPush: the camera pushes a recording of its SD card (sd/{serial}).
enum class StreamPurpose { kPush, kPlay, kTalk, kSdPush };
std::string_view purpose_name(StreamPurpose p);
bool parse_purpose(std::string_view name, StreamPurpose& out);

class StreamTokens {
 public:
  // Loads DIR/keys/stream-token.key, creating it (32 random bytes, mode 0600) if missing.
  static Result<StreamTokens, std::string> open(const std::filesystem::path& keys_dir,
                                                const Clock& clock);
  StreamTokens(std::vector<uint8_t> key, const Clock& clock)
      : key_(std::move(key)), clock_(&clock) {}

  std::string issue(std::string_view serial, StreamPurpose purpose, int64_t ttl_ms) const;
  // True only for an unexpired token made by this key for exactly this serial and purpose.
  bool check(std::string_view token, std::string_view serial, StreamPurpose purpose) const;

 private:
  std::string mac(std::string_view claims) const;
  std::vector<uint8_t> key_;
  const Clock* clock_;
};

}  // namespace nj::device
