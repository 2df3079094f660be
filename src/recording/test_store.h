// For tests: the media store a test runs on (issue #17: the storage tests run on files and on
// RGW). Files under `dir` by default; with NJ_TEST_S3_DIR (a cluster of scripts/test-rgw, as
// ctest's `rgw` fixture starts it) an S3Store on that gateway, under a prefix of the test's
// own.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "recording/s3_store.h"
#include "recording/store.h"

namespace nj::recording::testing {

inline bool on_s3() {
  const char* dir = std::getenv("NJ_TEST_S3_DIR");
  return dir && *dir;
}

// NJ_TEST_S3_DIR/s3.env as a client's settings ("" endpoint if it cannot be read).
inline s3::Config test_s3_config() {
  s3::Config c;
  std::ifstream in(std::string(std::getenv("NJ_TEST_S3_DIR")) + "/s3.env");
  std::map<std::string, std::string> env;
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  c.endpoint = env["NJ_S3_ENDPOINT"];
  c.bucket = env["NJ_S3_BUCKET"];
  c.region = env["NJ_S3_REGION"];
  c.credentials = {env["NJ_S3_ACCESS_KEY"], env["NJ_S3_SECRET_KEY"]};
  return c;
}

// A prefix no other test of the run uses.
inline std::string fresh_prefix() {
  static std::mt19937_64 random{std::random_device{}()};
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1'000'000'000) + "/";
}

inline std::unique_ptr<Store> open_test_store(const std::filesystem::path& dir,
                                              const std::string& prefix = fresh_prefix()) {
  if (!on_s3()) return std::make_unique<LocalStore>(dir);
  return std::make_unique<S3Store>(std::make_shared<s3::Client>(test_s3_config()), prefix);
}

}  // namespace nj::recording::testing
