#include "account/totp.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "account/crypto.h"

namespace nj::account {
namespace {

uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace

// SHA-1 (FIPS 180-4). Needed only because authenticator apps default to HMAC-SHA1 for
// TOTP, and libsodium has no SHA-1. Not used for anything else.
std::vector<uint8_t> sha1(std::span<const uint8_t> data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::vector<uint8_t> msg(data.begin(), data.end());
  const uint64_t bit_length = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(0x80);
  while (msg.size() % 64 != 56) msg.push_back(0);
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<uint8_t>(bit_length >> (i * 8)));
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const uint8_t* p = &msg[chunk + static_cast<size_t>(i) * 4];
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::vector<uint8_t> out(20);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) {
      out[static_cast<size_t>(i) * 4 + static_cast<size_t>(j)] =
          static_cast<uint8_t>(h[i] >> (24 - 8 * j));
    }
  }
  return out;
}

// HMAC (RFC 2104) over the chosen hash.
std::vector<uint8_t> hmac(TotpAlgorithm algorithm, std::span<const uint8_t> key,
                          std::span<const uint8_t> message) {
  auto hash = [algorithm](std::span<const uint8_t> d) {
    switch (algorithm) {
      case TotpAlgorithm::kSha256:
        return sha256(d);
      case TotpAlgorithm::kSha512:
        return sha512(d);
      case TotpAlgorithm::kSha1:
        break;
    }
    return sha1(d);
  };
  const size_t block = algorithm == TotpAlgorithm::kSha512 ? 128 : 64;
  std::vector<uint8_t> k(key.begin(), key.end());
  if (k.size() > block) k = hash(k);
  k.resize(block, 0);
  std::vector<uint8_t> inner(block), outer(block);
  for (size_t i = 0; i < block; ++i) {
    inner[i] = k[i] ^ 0x36;
    outer[i] = k[i] ^ 0x5c;
  }
  inner.insert(inner.end(), message.begin(), message.end());
  const auto inner_hash = hash(inner);
  outer.insert(outer.end(), inner_hash.begin(), inner_hash.end());
  return hash(outer);
}

std::string hotp(std::span<const uint8_t> key, uint64_t counter, int digits,
                 TotpAlgorithm algorithm) {
  std::array<uint8_t, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  const auto mac = hmac(algorithm, key, message);
  const size_t offset = mac.back() & 0x0f;
  const uint32_t binary = ((uint32_t{mac[offset]} & 0x7f) << 24) |
                          (uint32_t{mac[offset + 1]} << 16) | (uint32_t{mac[offset + 2]} << 8) |
                          uint32_t{mac[offset + 3]};
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::optional<uint64_t> totp_match(std::span<const uint8_t> key, std::string_view code,
                                   int64_t unix_seconds, int window) {
  if (code.size() != 6) return std::nullopt;
  const uint64_t now = totp_step(unix_seconds);
  std::optional<uint64_t> matched;
  // Compare against every candidate (no early exit), in constant time each.
  for (int delta = -window; delta <= window; ++delta) {
    const uint64_t step = now + static_cast<uint64_t>(static_cast<int64_t>(delta));
    if (constant_time_equal(hotp(key, step), code) && !matched) matched = step;
  }
  return matched;
}

std::string base32_encode(std::span<const uint8_t> data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::vector<uint8_t>> base32_decode(std::string_view text) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == ' ') continue;
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::span<const uint8_t> secret) {
  return "otpauth://totp/" + url_encode(issuer) + ":" + url_encode(account) +
         "?secret=" + base32_encode(secret) + "&issuer=" + url_encode(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace nj::account
