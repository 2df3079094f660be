#include "account/password.h"

#include <sodium.h>

#include <algorithm>
#include <string>
#include <unordered_set>

#include "account/crypto.h"

namespace nj::account {

// Generated from common-passwords.txt (see CMakeLists.txt).
std::string_view common_passwords_text();

namespace {

std::optional<size_t> utf8_length(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return std::nullopt;
    }
    i += len;
    ++count;
  }
  return count;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return out;
}

const std::unordered_set<std::string_view>& common_set() {
  static const auto set = [] {
    std::unordered_set<std::string_view> s;
    std::string_view text = common_passwords_text();
    while (!text.empty()) {
      const auto nl = text.find('\n');
      const auto line = text.substr(0, nl);
      if (!line.empty() && line[0] != '#') s.insert(line);
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
    return s;
  }();
  return set;
}

}  // namespace

std::string_view password_problem_message(PasswordProblem p) {
  switch (p) {
    case PasswordProblem::kTooShort:
      return "the password must have at least 8 characters";
    case PasswordProblem::kTooLong:
      return "the password must have at most 128 characters";
    case PasswordProblem::kTooCommon:
      return "this password is too common; choose another";
    case PasswordProblem::kSameAsEmail:
      return "the password must not be the e-mail address";
    case PasswordProblem::kNotUtf8:
      return "the password is not valid UTF-8";
  }
  return "invalid password";
}

bool is_common_password(std::string_view password) {
  return common_set().contains(lower_ascii(password));
}

std::optional<PasswordProblem> check_password(std::string_view password, std::string_view email) {
  const auto length = utf8_length(password);
  if (!length) return PasswordProblem::kNotUtf8;
  if (*length < kMinPasswordChars) return PasswordProblem::kTooShort;
  if (*length > kMaxPasswordChars) return PasswordProblem::kTooLong;
  if (is_common_password(password)) return PasswordProblem::kTooCommon;
  if (!email.empty() && lower_ascii(password) == lower_ascii(email)) {
    return PasswordProblem::kSameAsEmail;
  }
  return std::nullopt;
}

std::optional<std::string> hash_password(std::string_view password, const HashCost& cost) {
  crypto_init();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(out);
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
  crypto_init();
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string hash(stored_hash);  // NUL-terminated for libsodium
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace nj::account
