#include "notify/action_tokens.h"

#include <openssl/crypto.h>

#include <charconv>

#include "notify/secrets.h"

namespace nj::notify {
namespace {

constexpr std::string_view kPrefix = "s1.";

bool id_like(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("0123456789abcdefABCDEF-_") == std::string_view::npos;
}

}  // namespace

std::string ActionTokens::mac(std::string_view user_id, std::string_view device_id,
                              int64_t expires) const {
  return derive_secret(key_, "snooze:" + std::string(user_id) + ":" + std::string(device_id) + ":" +
                                 std::to_string(expires));
}

std::string ActionTokens::snooze(std::string_view user_id, std::string_view device_id) const {
  const int64_t expires = clock_.now_ms() + kLifetimeMs;
  return std::string(kPrefix) + std::string(user_id) + "." + std::string(device_id) + "." +
         std::to_string(expires) + "." + mac(user_id, device_id, expires);
}

std::optional<SnoozeClaim> ActionTokens::check_snooze(std::string_view token) const {
  if (token.size() > 256 || !token.starts_with(kPrefix)) return std::nullopt;
  token.remove_prefix(kPrefix.size());
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const size_t dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    parts[i] = token.substr(0, dot);
    token.remove_prefix(dot + 1);
  }
  parts[3] = token;
  if (!id_like(parts[0]) || !id_like(parts[1])) return std::nullopt;
  int64_t expires = 0;
  const auto [end, ec] =
      std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), expires);
  if (ec != std::errc() || end != parts[2].data() + parts[2].size()) return std::nullopt;
  const std::string expected = mac(parts[0], parts[1], expires);
  if (parts[3].size() != expected.size() ||
      CRYPTO_memcmp(parts[3].data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  if (expires <= clock_.now_ms()) return std::nullopt;
  return SnoozeClaim{std::string(parts[0]), std::string(parts[1])};
}

}  // namespace nj::notify
