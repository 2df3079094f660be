// Short-lived stream tokens (DESIGN.md, RTSP): each is bound to one device serial, one
// purpose (push, play, talk), the subject it was minted for (a person's id, the device
// itself, or the operator) and the device's binding generation at the time, and expires.
// Stateless: HMAC-SHA-256 over the claims with a server key kept in DIR/keys/, so any node
// holding the key can verify one. Verifying says only what the token claims; whether that
// subject still has the right is StreamAccess's question, asked on every use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
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

// Subjects that are not people (people are named by their user id, 32 hex digits).
inline constexpr std::string_view kDeviceSubject = "device";
inline constexpr std::string_view kOperatorSubject = "operator";

struct TokenClaims {
  std::string serial;
  StreamPurpose purpose = StreamPurpose::kPlay;
  std::string subject;     // [A-Za-z0-9_-], 1–64
  int64_t generation = 0;  // the device's binding generation when minted
  int64_t expires_at = 0;  // Unix ms
};

class StreamTokens {
 public:
  // Loads DIR/keys/stream-token.key, creating it (32 random bytes, mode 0600) if missing.
  static Result<StreamTokens, std::string> open(const std::filesystem::path& keys_dir,
                                                const Clock& clock);
  StreamTokens(std::vector<uint8_t> key, const Clock& clock)
      : key_(std::move(key)), clock_(&clock) {}

  // A token for the claims (expires_at is set from ttl_ms). The subject must be valid.
  std::string issue(std::string_view serial, StreamPurpose purpose, std::string_view subject,
                    int64_t generation, int64_t ttl_ms) const;
  // The claims of an unexpired token made by this key for exactly this serial and purpose;
  // nullopt for anything else.
  std::optional<TokenClaims> verify(std::string_view token, std::string_view serial,
                                    StreamPurpose purpose) const;

 private:
  std::string mac(std::string_view claims) const;
  std::vector<uint8_t> key_;
  const Clock* clock_;
};

}  // namespace nj::device
