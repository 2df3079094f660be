#include "device/stream_tokens.h"

#include <sodium.h>

#include <cassert>
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

namespace {

bool valid_subject(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

bool parse_int(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

std::string claims_text(std::string_view serial, StreamPurpose purpose, std::string_view subject,
                        std::string_view generation, std::string_view expiry) {
  std::string c;
  c.append(serial).append("\n").append(purpose_name(purpose)).append("\n");
  c.append(subject).append("\n").append(generation).append("\n").append(expiry);
  return c;
}

}  // namespace

// token = <expiry ms>.<generation>.<subject>.<tag>, the tag over
// "serial\npurpose\nsubject\ngeneration\nexpiry".
std::string StreamTokens::issue(std::string_view serial, StreamPurpose purpose,
                                std::string_view subject, int64_t generation,
                                int64_t ttl_ms) const {
  assert(valid_subject(subject));
  const std::string expiry = std::to_string(clock_->now_ms() + ttl_ms);
  const std::string gen = std::to_string(generation);
  return expiry + "." + gen + "." + std::string(subject) + "." +
         mac(claims_text(serial, purpose, subject, gen, expiry));
}

std::optional<TokenClaims> StreamTokens::verify(std::string_view token, std::string_view serial,
                                                StreamPurpose purpose) const {
  if (token.size() > 200) return std::nullopt;
  std::string_view parts[4];
  std::string_view rest = token;
  for (int i = 0; i < 3; ++i) {
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    parts[i] = rest.substr(0, dot);
    rest.remove_prefix(dot + 1);
  }
  parts[3] = rest;
  TokenClaims c;
  if (!parse_int(parts[0], c.expires_at) || !parse_int(parts[1], c.generation) ||
      !valid_subject(parts[2])) {
    return std::nullopt;
  }
  if (c.expires_at <= clock_->now_ms()) return std::nullopt;
  const auto expected = mac(claims_text(serial, purpose, parts[2], parts[1], parts[0]));
  if (parts[3].size() != expected.size() ||
      sodium_memcmp(parts[3].data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  c.serial = std::string(serial);
  c.purpose = purpose;
  c.subject = std::string(parts[2]);
  return c;
}

}  // namespace nj::device
