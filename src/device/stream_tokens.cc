#include "device/stream_tokens.h"

#include <sodium.h>

#include <charconv>

#include "device/key_file.h"

namespace nj::device {
namespace {

std::string b64url(const uint8_t* data, size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);
  return out;
}

}  // namespace

std::string_view purpose_name(StreamPurpose p) {
  switch (p) {
    case StreamPurpose::kPush:
      return "push";
    case StreamPurpose::kPlay:
      return "play";
    case StreamPurpose::kTalk:
      return "talk";
    case StreamPurpose::kSdPush:
      return "sd";
  }
  return "unknown";
}

bool parse_purpose(std::string_view name, StreamPurpose& out) {
  for (auto p :
       {StreamPurpose::kPush, StreamPurpose::kPlay, StreamPurpose::kTalk, StreamPurpose::kSdPush}) {
    if (name == purpose_name(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

Result<StreamTokens, std::string> StreamTokens::open(const std::filesystem::path& keys_dir,
                                                     const Clock& clock) {
  auto key = load_or_create_key(keys_dir, "stream-token.key");
  if (!key) return Unexpected(key.error());
  return StreamTokens(std::move(*key), clock);
}

std::string StreamTokens::mac(std::string_view claims) const {
  uint8_t out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(claims.data()),
                                claims.size());
  crypto_auth_hmacsha256_final(&st, out);
  return b64url(out, 16);  // 128 bits of tag are plenty for a short-lived token
}

// token = <expiry ms>.<tag>, the tag over "serial\npurpose\nexpiry".
std::string StreamTokens::issue(std::string_view serial, StreamPurpose purpose,
                                int64_t ttl_ms) const {
  const std::string expiry = std::to_string(clock_->now_ms() + ttl_ms);
  const std::string claims =
      std::string(serial) + "\n" + std::string(purpose_name(purpose)) + "\n" + expiry;
  return expiry + "." + mac(claims);
}

bool StreamTokens::check(std::string_view token, std::string_view serial,
                         StreamPurpose purpose) const {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 128) return false;
  const auto expiry_text = token.substr(0, dot);
  int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size()) return false;
  if (expiry <= clock_->now_ms()) return false;
  const std::string claims = std::string(serial) + "\n" + std::string(purpose_name(purpose)) +
                             "\n" + std::string(expiry_text);
  const auto expected = mac(claims);
  const auto given = token.substr(dot + 1);
  return given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace nj::device
