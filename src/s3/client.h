// A small S3 client (issue #17): path-style requests to one bucket, each signed with our SigV4
// (s3/sigv4.h) and sent by libcurl over kept-alive connections (a pool of handles). Only
// what the recording store needs: PUT, ranged GET, DELETE and ListObjectsV2.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "s3/sigv4.h"

namespace nj::s3 {

struct Config {
  std::string endpoint;  // "https://s3.example.org" or "http://127.0.0.1:7480"
  std::string bucket;
  std::string region = "us-east-1";
  Credentials credentials;
  long timeout_ms = 10'000;  // a whole request
};

// The [storage] keys from where an operator keeps them: NJ_S3_ACCESS_KEY and NJ_S3_SECRET_KEY
// in the environment, or a file of two lines (access key, then secret key).
Result<Credentials, std::string> credentials_from(const std::string& file);

struct Object {
  std::string key;
  uint64_t size = 0;
};

// Requests sent, by kind (each page of a listing is one list).
struct Requests {
  uint64_t gets = 0, puts = 0, deletes = 0, lists = 0;
};

class Client {
 public:
  explicit Client(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<void, std::string> put(const std::string& key, std::span<const uint8_t> bytes);
  // The object's bytes [offset, offset + length), or all of it without a length.
  Result<std::vector<uint8_t>, std::string> get(const std::string& key, uint64_t offset = 0,
                                                std::optional<uint64_t> length = std::nullopt);
  // Deleting what is not there succeeds (S3 answers 204 either way).
  Result<void, std::string> remove(const std::string& key);
  // Every object under the prefix, in key order (all pages).
  Result<std::vector<Object>, std::string> list(const std::string& prefix);

  const Config& config() const { return config_; }
  Requests requests() const;

 private:
  struct Response;
  Result<Response, std::string> send(const std::string& method, const std::string& key,
                                     std::vector<std::pair<std::string, std::string>> query,
                                     std::span<const uint8_t> body,
                                     std::vector<std::pair<std::string, std::string>> headers);
  void* take_handle();
  void give_back(void* handle);

  Config config_;
  std::string host_;  // as sent in Host
  std::mutex mu_;
  std::vector<void*> idle_;
  std::atomic<uint64_t> gets_{0}, puts_{0}, deletes_{0}, lists_{0};
};

}  // namespace nj::s3
