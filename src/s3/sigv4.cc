#include "s3/sigv4.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace nj::s3 {
namespace {

std::string hex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

using Mac = std::array<uint8_t, 32>;

Mac hmac(std::span<const uint8_t> key, std::string_view message) {
  Mac out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header value as signed: no space at either end, inner runs of spaces made one.
std::string trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string encode_path(std::string_view bucket, std::string_view key) {
  return "/" + uri_encode(bucket, true) + "/" + uri_encode(key, false);
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [name, value] : query) {
    name = uri_encode(name, true);
    value = uri_encode(value, true);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), digest);
  return hex(digest, sizeof digest);
}

std::string sha256_hex(std::string_view text) {
  return sha256_hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string amz_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Signature sign_v4(const SigningInput& input, const Credentials& credentials,
                  std::string_view region, std::string_view service) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("host", input.host);
  headers.emplace_back("x-amz-content-sha256", input.payload_hash);
  headers.emplace_back("x-amz-date", input.amz_date);
  for (const auto& [name, value] : input.headers) headers.emplace_back(lower(name), trimmed(value));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  Signature out;
  out.canonical_request = input.method + "\n" + input.path + "\n" +
                          canonical_query(input.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + input.payload_hash;
  const std::string day = input.amz_date.substr(0, 8);
  const std::string scope =
      day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + input.amz_date + "\n" + scope + "\n" +
                       sha256_hex(out.canonical_request);
  const std::string secret = "AWS4" + credentials.secret_key;
  const auto bytes = [](const auto& s) {
    return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  Mac key = hmac(bytes(secret), day);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, "aws4_request");
  const Mac signature = hmac(key, out.string_to_sign);
  out.signature = hex(signature.data(), signature.size());
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
                      ",SignedHeaders=" + signed_headers + ",Signature=" + out.signature;
  return out;
}

}  // namespace nj::s3
