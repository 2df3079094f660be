#include "notify/web_push.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>

namespace nj::notify::webpush {
namespace {

constexpr size_t kPublicKeyBytes = 65;  // 0x04 || X || Y
constexpr size_t kPrivateKeyBytes = 32;
constexpr size_t kAuthBytes = 16;
constexpr size_t kSaltBytes = 16;
constexpr uint32_t kRecordSize = 4096;
constexpr size_t kTagBytes = 16;
// One record holds the plaintext, its 0x02 delimiter and the tag.
constexpr size_t kMaxPlaintext = kRecordSize - kTagBytes - 1 - 86;

using Error = std::string;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 32;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &len);
  return out;
}

// HKDF-Expand for at most one block (RFC 5869): T(1) = HMAC(PRK, info || 0x01), cut.
std::string hkdf_expand(std::string_view prk, std::string_view info, size_t length) {
  std::string input(info);
  input.push_back('\x01');
  return hmac_sha256(prk, input).substr(0, length);
}

// A P-256 key from its parts; `private_key` empty for a public key alone. The point is
// checked to be on the curve (a browser's key is input like any other).
Result<Pkey, Error> ec_key(std::string_view public_key, std::string_view private_key) {
  if (public_key.size() != kPublicKeyBytes || public_key[0] != 0x04) {
    return Unexpected(Error("a public key is 65 bytes, uncompressed"));
  }
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  Bn d;
  bool ok = build != nullptr &&
            OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
            OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, public_key.data(),
                                             public_key.size());
  if (ok && !private_key.empty()) {
    d.reset(BN_bin2bn(bytes(private_key), static_cast<int>(private_key.size()), nullptr));
    ok = d && OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  }
  OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(build) : nullptr;
  OSSL_PARAM_BLD_free(build);
  if (!params) return Unexpected(Error("cannot build the key"));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  const int selection = private_key.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR;
  ok = ctx && EVP_PKEY_fromdata_init(ctx.get()) > 0 &&
       EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) > 0;
  OSSL_PARAM_free(params);
  Pkey key(raw);
  if (!ok || !key) return Unexpected(Error("not a P-256 key"));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) <= 0) {
    return Unexpected(Error("the public key is not a point of P-256"));
  }
  return key;
}

// The public point of a private scalar on P-256.
Result<std::string, Error> public_of(std::string_view private_key) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* point = group ? EC_POINT_new(group) : nullptr;
  Bn d(BN_bin2bn(bytes(private_key), static_cast<int>(private_key.size()), nullptr));
  std::string out(kPublicKeyBytes, '\0');
  const bool ok = point && d && EC_POINT_mul(group, point, d.get(), nullptr, nullptr, nullptr) &&
                  EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
                                     reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                     nullptr) == kPublicKeyBytes;
  EC_POINT_free(point);
  EC_GROUP_free(group);
  if (!ok) return Unexpected(Error("not a P-256 private key"));
  return out;
}

Result<std::string, Error> public_octets(EVP_PKEY* key) {
  std::string out(kPublicKeyBytes, '\0');
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
                                      reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                      &len) <= 0 ||
      len != kPublicKeyBytes) {
    return Unexpected(Error("cannot read the public key"));
  }
  return out;
}

Result<std::string, Error> ecdh(EVP_PKEY* mine, EVP_PKEY* theirs) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(mine, nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs) <= 0 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) <= 0) {
    return Unexpected(Error("ECDH failed"));
  }
  std::string secret(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &len) <= 0) {
    return Unexpected(Error("ECDH failed"));
  }
  secret.resize(len);
  return secret;
}

Result<std::string, Error> aes128gcm(std::string_view key, std::string_view nonce,
                                     std::string_view plaintext) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + kTagBytes, '\0');
  int len = 0, final_len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) &&
      EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext), static_cast<int>(plaintext.size())) &&
      EVP_EncryptFinal_ex(ctx.get(), o + len, &final_len) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + plaintext.size());
  if (!ok) return Unexpected(Error("AES-GCM failed"));
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

}  // namespace

std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  // Padding is tolerated (some browsers' JSON has it); anything else outside the alphabet is not.
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-' || c == '+')
      v = 62;
    else if (c == '_' || c == '/')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Result<std::string, std::string> encrypt(std::string_view plaintext, std::string_view ua_public,
                                         std::string_view auth_secret,
                                         std::optional<std::string_view> as_private_given,
                                         std::optional<std::string_view> salt_given) {
  if (auth_secret.size() != kAuthBytes) return Unexpected(Error("the auth secret is 16 bytes"));
  if (plaintext.size() > kMaxPlaintext) return Unexpected(Error("the message is too long"));
  auto ua = ec_key(ua_public, {});
  if (!ua) return Unexpected(ua.error());
  // The server's key for this message alone.
  Pkey as;
  std::string as_public;
  if (as_private_given) {
    if (as_private_given->size() != kPrivateKeyBytes) {
      return Unexpected(Error("a private key is 32 bytes"));
    }
    auto pub = public_of(*as_private_given);
    if (!pub) return Unexpected(pub.error());
    auto key = ec_key(*pub, *as_private_given);
    if (!key) return Unexpected(key.error());
    as = std::move(*key);
    as_public = std::move(*pub);
  } else {
    as.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!as) return Unexpected(Error("cannot make a key"));
    auto pub = public_octets(as.get());
    if (!pub) return Unexpected(pub.error());
    as_public = std::move(*pub);
  }
  const std::string salt = salt_given ? std::string(*salt_given) : random_bytes(kSaltBytes);
  if (salt.size() != kSaltBytes) return Unexpected(Error("the salt is 16 bytes"));

  auto shared = ecdh(as.get(), ua->get());
  if (!shared) return Unexpected(shared.error());
  // RFC 8291 section 3.4: the auth secret and both public keys go into the input key.
  const std::string prk_key = hmac_sha256(auth_secret, *shared);
  std::string key_info("WebPush: info");
  key_info.push_back('\0');
  key_info.append(ua_public);
  key_info.append(as_public);
  const std::string ikm = hkdf_expand(prk_key, key_info, 32);
  // RFC 8188 section 2.2 and 2.3.
  const std::string prk = hmac_sha256(salt, ikm);
  const std::string cek =
      hkdf_expand(prk, std::string_view("Content-Encoding: aes128gcm\0", 28), 16);
  const std::string nonce = hkdf_expand(prk, std::string_view("Content-Encoding: nonce\0", 24), 12);
  std::string record(plaintext);
  record.push_back('\x02');  // the last (and only) record
  auto sealed = aes128gcm(cek, nonce, record);
  if (!sealed) return Unexpected(sealed.error());

  std::string body = salt;
  for (int shift : {24, 16, 8, 0}) body.push_back(static_cast<char>((kRecordSize >> shift) & 0xff));
  body.push_back(static_cast<char>(kPublicKeyBytes));
  body.append(as_public);
  body.append(*sealed);
  return body;
}

struct VapidKey::Key {
  Pkey pkey;
};

VapidKey::VapidKey(std::unique_ptr<Key> key, std::string public_key)
    : key_(std::move(key)), public_key_(std::move(public_key)) {}
VapidKey::~VapidKey() = default;
VapidKey::VapidKey(VapidKey&&) noexcept = default;
VapidKey& VapidKey::operator=(VapidKey&&) noexcept = default;

Result<VapidKey, std::string> VapidKey::load_or_create(const std::filesystem::path& file) {
  Pkey pkey;
  if (BIO* in = BIO_new_file(file.c_str(), "r")) {
    pkey.reset(PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr));
    BIO_free(in);
    if (!pkey) return Unexpected(Error("cannot read the VAPID key in " + file.string()));
  } else {
    pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!pkey) return Unexpected(Error("cannot make a VAPID key"));
    BIO* mem = BIO_new(BIO_s_mem());
    if (!mem || !PEM_write_bio_PrivateKey(mem, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
      BIO_free(mem);
      return Unexpected(Error("cannot write the VAPID key"));
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(mem, &data);
    // Made readable by the server's user alone, before a byte of the key is in it.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const bool written =
        fd >= 0 && ::write(fd, data, static_cast<size_t>(len)) == len && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    BIO_free(mem);
    if (!written) return Unexpected(Error("cannot write " + file.string()));
  }
  char group[32] = {};
  size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &group_len) <= 0 ||
      std::string_view(group, group_len) != "prime256v1") {
    return Unexpected(Error(file.string() + " is not a P-256 key"));
  }
  auto pub = public_octets(pkey.get());
  if (!pub) return Unexpected(pub.error());
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return VapidKey(std::move(key), std::move(*pub));
}

Result<std::string, std::string> VapidKey::authorization(std::string_view audience,
                                                         std::string_view subject,
                                                         int64_t expires_unix_s) const {
  const std::string header = base64url(R"({"typ":"JWT","alg":"ES256"})");
  const std::string claims = base64url(
      nlohmann::json{{"aud", audience}, {"exp", expires_unix_s}, {"sub", subject}}.dump());
  const std::string signing_input = header + "." + claims;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t der_len = 0;
  std::string der;
  bool ok = md && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_->pkey.get()) > 0 &&
            EVP_DigestSign(md, nullptr, &der_len, bytes(signing_input), signing_input.size()) > 0;
  if (ok) {
    der.resize(der_len);
    ok = EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &der_len,
                        bytes(signing_input), signing_input.size()) > 0;
    der.resize(der_len);
  }
  EVP_MD_CTX_free(md);
  if (!ok) return Unexpected(Error("cannot sign the VAPID token"));
  // JWS wants r || s, 32 bytes each, not DER.
  const auto* p = bytes(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return Unexpected(Error("cannot read the signature"));
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw(64, '\0');
  ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32) == 32 &&
       BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  if (!ok) return Unexpected(Error("cannot encode the signature"));
  return "vapid t=" + signing_input + "." + base64url(raw) + ", k=" + base64url(public_key_);
}

}  // namespace nj::notify::webpush
