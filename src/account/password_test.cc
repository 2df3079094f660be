#include "account/password.h"

#include <gtest/gtest.h>

#include "account/crypto.h"

namespace nj::account {
namespace {

TEST(PasswordRules, LengthCountsCharactersNotBytes) {
  EXPECT_EQ(check_password("short", ""), PasswordProblem::kTooShort);
  EXPECT_EQ(check_password("密码密码密码密", ""), PasswordProblem::kTooShort);  // 7 characters
  EXPECT_EQ(check_password("密码密码密码密码", ""), std::nullopt);              // 8 characters
  EXPECT_EQ(check_password(std::string(128, 'x') + "y", ""), PasswordProblem::kTooLong);
  EXPECT_EQ(check_password("correct horse battery staple", ""), std::nullopt);
  EXPECT_EQ(check_password(std::string(64, 'q') + "w", ""), std::nullopt);
}

TEST(PasswordRules, NoCompositionRulesButCommonOnesAreRefused) {
  EXPECT_EQ(check_password("alllowercaseletters", ""), std::nullopt);
  EXPECT_EQ(check_password("password", ""), PasswordProblem::kTooCommon);
  EXPECT_EQ(check_password("PassWord1", ""), PasswordProblem::kTooCommon);  // "password1"
  EXPECT_EQ(check_password("owl at dusk 7", ""), std::nullopt);
  EXPECT_EQ(check_password("12345678", ""), PasswordProblem::kTooCommon);
  EXPECT_EQ(check_password("QWERTYUIOP", ""), PasswordProblem::kTooCommon);  // case-insensitive
  EXPECT_TRUE(is_common_password("iloveyou"));
}

TEST(PasswordRules, NotTheEmailAndValidUtf8) {
  EXPECT_EQ(check_password("Someone@Example.org", "someone@example.org"),
            PasswordProblem::kSameAsEmail);
  EXPECT_EQ(check_password(std::string("abcdefg\xff", 8), ""), PasswordProblem::kNotUtf8);
}

TEST(PasswordHash, Argon2idVerifiesAndRejects) {
  const HashCost cheap{1, 8192};  // the real cost is tested by the default below
  const auto hash = hash_password("correct horse battery staple", cheap);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password(*hash, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_FALSE(verify_password("garbage", "x"));
}

TEST(PasswordHash, DefaultCostIsAtLeastOwaspMinimum) {
  const auto hash = hash_password("correct horse battery staple");
  ASSERT_TRUE(hash);
  // $argon2id$v=19$m=19456,t=2,p=1$… : 19 MiB, 2 passes.
  EXPECT_NE(hash->find("m=19456,t=2"), std::string::npos) << *hash;
}

TEST(Crypto, TokensAreLongRandomAndComparedInConstantTime) {
  const auto a = random_token(), b = random_token();
  EXPECT_EQ(a.size(), 43u);  // 256 bits
  EXPECT_NE(a, b);
  EXPECT_TRUE(constant_time_equal(a, a));
  EXPECT_FALSE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, a.substr(1)));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace nj::account
