// Fuzz target: untrusted account input — e-mail addresses, passwords, base32 TOTP secrets,
// codes. Whatever normalises must normalise again to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "account/password.h"
#include "account/service.h"
#include "account/totp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (auto email = nj::account::normalize_email(input)) {
    if (nj::account::normalize_email(*email) != email) __builtin_trap();
  }
  (void)nj::account::check_password(input, "someone@example.org");
  if (auto bytes = nj::account::base32_decode(input)) {
    const auto again = nj::account::base32_decode(nj::account::base32_encode(*bytes));
    if (!again || *again != *bytes) __builtin_trap();
    if (!bytes->empty()) (void)nj::account::totp_match(*bytes, input.substr(0, 6), 1795947665);
  }
  return 0;
}
