#include "device/stream_access.h"

namespace nj::device {

std::string StreamAccess::for_person(const Device& device, const std::string& user_id,
                                     StreamPurpose purpose, int64_t ttl_ms) const {
  return tokens_.issue(device.serial, purpose, user_id, device.binding_generation, ttl_ms);
}

std::string StreamAccess::for_device(const std::string& serial, StreamPurpose purpose,
                                     int64_t ttl_ms) const {
  auto device = registry_.by_serial(serial);
  return tokens_.issue(serial, purpose, kDeviceSubject, device ? device->binding_generation : 0,
                       ttl_ms);
}

std::string operator_token(const StreamTokens& tokens, std::string_view serial,
                           StreamPurpose purpose, int64_t generation, int64_t ttl_ms) {
  return tokens.issue(serial, purpose, kOperatorSubject, generation, ttl_ms);
}

Result<StreamHolder, std::string> StreamAccess::check(std::string_view token,
                                                      std::string_view serial,
                                                      StreamPurpose purpose) const {
  auto claims = tokens_.verify(token, serial, purpose);
  if (!claims) return Unexpected(std::string("not a valid token for this stream"));
  StreamHolder holder{claims->serial, claims->subject, std::nullopt, claims->generation};
  auto device = registry_.by_serial(claims->serial);
  if (!device) {
    // Streams that are no registered device are the operator's own.
    if (claims->subject == kOperatorSubject && claims->generation == 0) return holder;
    return Unexpected(std::string("no such device"));
  }
  if (claims->generation != device->binding_generation) {
    return Unexpected(std::string("the camera was unbound or re-bound since"));
  }
  if (claims->subject == kOperatorSubject) return holder;
  if (claims->subject == kDeviceSubject) {
    if (purpose == StreamPurpose::kPlay) return Unexpected(std::string("not a device's purpose"));
    return holder;
  }
  // A person: their role on this device, read now.
  holder.role = devices_.role_on(*device, claims->subject);
  if (!holder.role) return Unexpected(std::string("no longer allowed"));
  if (purpose != StreamPurpose::kPlay && purpose != StreamPurpose::kTalk) {
    return Unexpected(std::string("not a person's purpose"));
  }
  return holder;
}

}  // namespace nj::device
