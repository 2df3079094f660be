// Stream tokens as rights: minted for a subject (a person, the device itself, or the
// operator) under the device's current binding, and re-checked on every use against who
// may do what now. A token outlives nothing it was minted on: a share revoked, a camera
// unbound or re-bound by someone else, an account cancelled.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "device/registry.h"
#include "device/service.h"
#include "device/stream_tokens.h"

namespace nj::device {

// Who holds the access a token gave, checked just now.
struct StreamHolder {
  std::string serial;
  std::string subject;       // a user id, kDeviceSubject or kOperatorSubject
  std::optional<Role> role;  // a person's role on the device now
  int64_t generation = 0;
};

class StreamAccess {
 public:
  StreamAccess(const StreamTokens& tokens, DeviceRegistry& registry, DeviceService& devices)
      : tokens_(tokens), registry_(registry), devices_(devices) {}

  // For a person with a role on the device (checked by the caller), under its binding now.
  std::string for_person(const Device& device, const std::string& user_id, StreamPurpose purpose,
                         int64_t ttl_ms) const;
  // For the camera itself (push, SD playback, talk), under its binding now.
  std::string for_device(const std::string& serial, StreamPurpose purpose, int64_t ttl_ms) const;

  // The holder if the token is genuine, unexpired, for this serial and purpose, minted
  // under the device's current binding, and its subject still has the right; else why not.
  Result<StreamHolder, std::string> check(std::string_view token, std::string_view serial,
                                          StreamPurpose purpose) const;

 private:
  const StreamTokens& tokens_;
  DeviceRegistry& registry_;
  DeviceService& devices_;
};

// An operator's token (`nightjar admin stream-token`): valid while the device stays in the
// binding it was minted under; for a serial that is no registered device (a relay, a load
// test), generation 0.
std::string operator_token(const StreamTokens& tokens, std::string_view serial,
                           StreamPurpose purpose, int64_t generation, int64_t ttl_ms);

}  // namespace nj::device
