// AWS Signature Version 4 for S3 requests (issue #17), our own: the canonical request, the
// string to sign and the Authorization header, checked against AWS's published examples.
// S3's flavour: the path is encoded once (an object key's '/' kept) and never normalised;
// the query is sorted and RFC 3986-encoded here ('/' as %2F), as libcurl would sign it as
// written.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nj::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

struct SigningInput {
  std::string method;  // "GET"
  std::string host;    // as sent in Host: "bucket.s3.amazonaws.com", "127.0.0.1:7480"
  std::string path;    // encoded already (encode_path): "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;    // raw names and values
  std::vector<std::pair<std::string, std::string>> headers;  // more to sign (Range, Date…)
  std::string payload_hash;  // sha256_hex of the body, or "UNSIGNED-PAYLOAD"
  std::string amz_date;      // "20130524T000000Z"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header's value
};

Signature sign_v4(const SigningInput& input, const Credentials& credentials,
                  std::string_view region, std::string_view service = "s3");

// RFC 3986: A–Z a–z 0–9 - . _ ~ as they are, every other byte %XX (upper case); '/' kept
// unless encode_slash.
std::string uri_encode(std::string_view text, bool encode_slash);
// An object key as a path: "/" + bucket + "/" + the key encoded with its '/' kept.
std::string encode_path(std::string_view bucket, std::string_view key);
// name=value pairs, each encoded, sorted by name then value, joined by '&'.
std::string canonical_query(std::vector<std::pair<std::string, std::string>> query);

std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view text);
// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string amz_date(std::time_t t);

}  // namespace nj::s3
