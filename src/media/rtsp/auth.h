// HTTP-style authentication as RTSP cameras use it (RFC 2617 / RFC 7826 §19): answering a
// Basic or Digest (MD5, with or without qop=auth) challenge from the WWW-Authenticate
// headers of a 401. MD5 is here only because Digest requires it; it protects nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/rtsp/message.h"

namespace nj::media::rtsp {

std::array<uint8_t, 16> md5(std::span<const uint8_t> data);
std::string md5_hex(std::string_view text);

// The Digest response value (RFC 2617 §3.2.2.1); qop empty for the RFC 2069 form.
std::string digest_response(std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);

struct Challenge {
  enum class Scheme { kBasic, kDigest } scheme = Scheme::kBasic;
  std::string realm, nonce, opaque, algorithm;
  bool qop_auth = false;  // the server offers qop=auth
};

// The strongest challenge we can answer among a 401's WWW-Authenticate headers (Digest
// with MD5 before Basic); nullopt when there is none.
std::optional<Challenge> pick_challenge(const Message& response);

// Answers challenges for one user, counting nonce uses for qop=auth.
class Credentials {
 public:
  Credentials(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {}
  bool empty() const { return user_.empty() && password_.empty(); }
  void set_challenge(Challenge challenge);
  bool has_challenge() const { return challenge_.has_value(); }
  // The Authorization header value for a request, or empty if no challenge came yet.
  std::string authorization(std::string_view method, std::string_view uri);

 private:
  std::string user_, password_;
  std::optional<Challenge> challenge_;
  uint32_t nonce_count_ = 0;
  std::string cnonce_;
};

}  // namespace nj::media::rtsp
