#include "account/totp.h"

#include <gtest/gtest.h>

#include "account/crypto.h"

namespace nj::account {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Sha1, Fips180Vectors) {
  EXPECT_EQ(hex_encode(sha1(bytes(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex_encode(sha1(bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex_encode(sha1(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex_encode(sha1(bytes(std::string(1000000, 'a')))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Hmac, Rfc2202Sha1Vector) {
  const std::vector<uint8_t> key(20, 0x0b);
  EXPECT_EQ(hex_encode(hmac(TotpAlgorithm::kSha1, key, bytes("Hi There"))),
            "b617318655057264e28bc0b6fb378c8ef146be00");
}

TEST(Hotp, Rfc4226AppendixD) {
  const auto key = bytes("12345678901234567890");
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(hotp(key, i), expected[i]) << i;
}

// RFC 6238 Appendix B: 8-digit codes for SHA-1, SHA-256 and SHA-512 seeds.
TEST(Totp, Rfc6238AppendixB) {
  const auto sha1_key = bytes("12345678901234567890");
  const auto sha256_key = bytes("12345678901234567890123456789012");
  const auto sha512_key = bytes("1234567890123456789012345678901234567890123456789012345678901234");
  struct Row {
    int64_t time;
    const char *sha1, *sha256, *sha512;
  };
  const Row rows[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  for (const auto& r : rows) {
    const auto step = totp_step(r.time);
    EXPECT_EQ(hotp(sha1_key, step, 8, TotpAlgorithm::kSha1), r.sha1) << r.time;
    EXPECT_EQ(hotp(sha256_key, step, 8, TotpAlgorithm::kSha256), r.sha256) << r.time;
    EXPECT_EQ(hotp(sha512_key, step, 8, TotpAlgorithm::kSha512), r.sha512) << r.time;
  }
}

TEST(Totp, MatchAcceptsAdjacentStepsOnly) {
  const auto key = bytes("12345678901234567890");
  const int64_t now = 1111111111;
  const auto previous = hotp(key, totp_step(now) - 1);
  EXPECT_EQ(totp_match(key, previous, now), totp_step(now) - 1);
  EXPECT_EQ(totp_match(key, hotp(key, totp_step(now)), now), totp_step(now));
  EXPECT_FALSE(totp_match(key, hotp(key, totp_step(now) - 3), now));
  EXPECT_FALSE(totp_match(key, "12345", now));
}

TEST(Base32, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base32_encode(bytes("foobar")), "MZXW6YTBOI");
  EXPECT_EQ(base32_decode("MZXW6YTBOI"), bytes("foobar"));
  EXPECT_EQ(base32_decode("mzxw6ytboi======"), bytes("foobar"));
  EXPECT_FALSE(base32_decode("MZXW1"));
  const auto secret = random_bytes(20);
  EXPECT_EQ(base32_decode(base32_encode(secret)), secret);
}

TEST(Otpauth, UriCarriesSecretAndIssuer) {
  const auto uri = otpauth_uri("Nightjar", "a@b.org", bytes("foobar"));
  EXPECT_EQ(uri,
            "otpauth://totp/Nightjar:a%40b.org?secret=MZXW6YTBOI&issuer=Nightjar&algorithm=SHA1&"
            "digits=6&period=30");
}

}  // namespace
}  // namespace nj::account
