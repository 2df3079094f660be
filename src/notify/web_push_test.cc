#include "notify/web_push.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace nj::notify::webpush {
namespace {

std::string d(std::string_view b64) { return from_base64url(b64).value(); }

// RFC 8291, section 5 and Appendix A: every input pinned, the body must match to the byte.
TEST(WebPush, EncryptsTheRfc8291ExampleToTheByte) {
  const auto body =
      encrypt("When I grow up, I want to be a watermelon",
              d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZ"
                "GH6SRpkNtoIAiw4"),
              d("BTBZMqHH6r4Tts7J_aSIgg"), d("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"),
              d("DGv6ra1nlYgDCS1FRnbzlw"));
  ASSERT_TRUE(body) << body.error();
  EXPECT_EQ(base64url(*body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocI"
            "nmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWG"
            "NWQexSgSxsj_Qulcy4a-fN");
}

TEST(WebPush, EachMessageHasItsOwnKeyAndSalt) {
  const std::string ua =
      d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
  const std::string auth = d("BTBZMqHH6r4Tts7J_aSIgg");
  auto a = encrypt("hello", ua, auth);
  auto b = encrypt("hello", ua, auth);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 86u + 5 + 1 + 16);
  EXPECT_NE(a->substr(0, 16), b->substr(0, 16)) << "salts";
  EXPECT_NE(a->substr(21, 65), b->substr(21, 65)) << "the server's keys";
}

TEST(WebPush, RefusesKeysThatAreNotKeys) {
  const std::string ua =
      d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
  const std::string auth = d("BTBZMqHH6r4Tts7J_aSIgg");
  std::string off_curve = ua;
  off_curve[40] ^= 1;
  EXPECT_FALSE(encrypt("x", off_curve, auth)) << "a point not on the curve";
  EXPECT_FALSE(encrypt("x", ua.substr(0, 33), auth)) << "compressed or short";
  EXPECT_FALSE(encrypt("x", std::string(65, '\x04'), auth));
  EXPECT_FALSE(encrypt("x", ua, auth.substr(0, 15)));
  EXPECT_FALSE(encrypt(std::string(3994, 'x'), ua, auth)) << "one record only";
  EXPECT_TRUE(encrypt(std::string(3993, 'x'), ua, auth));
}

TEST(WebPush, Base64Url) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
  EXPECT_EQ(from_base64url("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(from_base64url("-_8="), std::string("\xfb\xff"));
  EXPECT_FALSE(from_base64url("a"));
  EXPECT_FALSE(from_base64url("ab c"));
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\x01\x02\x03\x04"}) {
    EXPECT_EQ(from_base64url(base64url(s)), s);
  }
}

// The VAPID token verifies with the public key the browser was given, says who and until
// when, and the key is kept in a file only its owner can read.
TEST(WebPush, VapidTokenVerifiesAndTheKeyIsKeptPrivately) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-vapid-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "vapid.pem";
  auto key = VapidKey::load_or_create(file);
  ASSERT_TRUE(key) << key.error();
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = VapidKey::load_or_create(file);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), key->public_key()) << "the same key after a restart";
  ASSERT_EQ(key->public_key().size(), 65u);

  auto header =
      key->authorization("https://push.example.net", "mailto:ops@example.org", 1800000000);
  ASSERT_TRUE(header) << header.error();
  ASSERT_TRUE(header->starts_with("vapid t="));
  const size_t comma = header->find(", k=");
  const std::string token = header->substr(8, comma - 8);
  EXPECT_EQ(header->substr(comma + 4), base64url(key->public_key()));
  const size_t dot2 = token.rfind('.');
  const std::string signing_input = token.substr(0, dot2);
  const auto claims = nlohmann::json::parse(
      *from_base64url(token.substr(token.find('.') + 1, dot2 - token.find('.') - 1)));
  EXPECT_EQ(claims["aud"], "https://push.example.net");
  EXPECT_EQ(claims["exp"], 1800000000);
  EXPECT_EQ(claims["sub"], "mailto:ops@example.org");
  // Verify r || s with the public key, through OpenSSL's own verifier.
  const std::string raw = *from_base64url(token.substr(dot2 + 1));
  ASSERT_EQ(raw.size(), 64u);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  BIO* in = BIO_new_file(file.c_str(), "r");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(md, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()),
            1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  OPENSSL_free(der);
  std::filesystem::remove_all(dir);

  // A file that is not a key is refused, not replaced.
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "vapid.pem") << "not a key";
  EXPECT_FALSE(VapidKey::load_or_create(dir / "vapid.pem"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::notify::webpush
