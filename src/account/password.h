// Password rules and storage (OWASP ASVS L2): 8–128 characters, no composition rules, not
// one of the 10,000 most common passwords, not the e-mail address; stored as Argon2id
// (libsodium crypto_pwhash_str: opslimit 2, 19 MiB by default), verified in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nj::account {

inline constexpr size_t kMinPasswordChars = 8;
inline constexpr size_t kMaxPasswordChars = 128;

enum class PasswordProblem { kTooShort, kTooLong, kTooCommon, kSameAsEmail, kNotUtf8 };
std::string_view password_problem_message(PasswordProblem p);

// Length is counted in Unicode code points, as a person counts characters.
std::optional<PasswordProblem> check_password(std::string_view password, std::string_view email);

bool is_common_password(std::string_view password);

struct HashCost {
  unsigned long long opslimit = 2;
  size_t memlimit = size_t{19} * 1024 * 1024;
};

// nullopt only if the system is out of memory.
std::optional<std::string> hash_password(std::string_view password, const HashCost& cost = {});
bool verify_password(std::string_view stored_hash, std::string_view password);

}  // namespace nj::account
