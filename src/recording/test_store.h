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
#include <string>

#include "common/random.h"
#include "recording/s3_store.h"
#include "recording/store.h"

namespace nj::recording::testing {

inline bool on_s3() {
  const char* dir = std::getenv("NJ_TEST_S3_DIR");
  return dir && *dir;
}

// DIR/s3.env of a gateway of scripts/test-rgw as a client's settings ("" endpoint if it
// cannot be read); by default the run's (NJ_TEST_S3_DIR).
inline s3::Config test_s3_config(std::string dir = "") {
  if (dir.empty() && on_s3()) dir = std::getenv("NJ_TEST_S3_DIR");
  s3::Config c;
  std::ifstream in(dir + "/s3.env");
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

#ifdef NJ_TEST_RGW_SCRIPT
// A gateway of a test's own (for an outage that must not touch other tests), stopped and
// deleted with the object. dir() is empty if it did not start.
class TempRgw {
 public:
  TempRgw() {
    char pattern[] = "/tmp/nj-rgw-XXXXXX";
    if (!::mkdtemp(pattern)) return;
    const std::string dir = pattern;
    if (std::system((std::string(NJ_TEST_RGW_SCRIPT) + " start " + dir + " > " + dir + ".out 2>&1")
                        .c_str()) == 0) {
      dir_ = dir;
    }
    std::filesystem::remove(dir + ".out");
    if (dir_.empty()) std::filesystem::remove_all(dir);
  }
  ~TempRgw() {
    if (!dir_.empty()) run("stop");
  }
  TempRgw(const TempRgw&) = delete;
  TempRgw& operator=(const TempRgw&) = delete;
  const std::string& dir() const { return dir_; }
  // The gateway alone stopped and started again (the monitor and the OSD keep the data).
  bool stop_gateway() { return run("gateway-stop"); }
  bool start_gateway() { return run("gateway-start"); }

 private:
  bool run(const std::string& what) {
    return std::system(
               (std::string(NJ_TEST_RGW_SCRIPT) + " " + what + " " + dir_ + " > /dev/null 2>&1")
                   .c_str()) == 0;
  }
  std::string dir_;
};
#endif

// A prefix no other test of the run uses.
inline std::string fresh_prefix() {
  return "t" + std::to_string(::getpid()) + "-" + random_hex_id().substr(0, 12) + "/";
}

// A server's config (TOML) for recordings kept in that bucket under that prefix, a minute
// per segment, its keys in a file of the test's.
inline std::string server_storage_config(const s3::Config& s3, const std::string& prefix) {
  const auto keys =
      std::filesystem::temp_directory_path() / ("nj-s3-keys-" + std::to_string(::getpid()));
  std::ofstream(keys) << s3.credentials.access_key << "\n" << s3.credentials.secret_key << "\n";
  return "[recording]\nsegment_minutes = 1\nreserve_mb = 0\n[storage]\nendpoint = \"" +
         s3.endpoint + "\"\nbucket = \"" + s3.bucket + "\"\nregion = \"" + s3.region +
         "\"\nkey_file = \"" + keys.string() + "\"\nprefix = \"" + prefix +
         "\"\ntimeout_ms = 2000\n";
}

inline std::unique_ptr<Store> open_test_store(const std::filesystem::path& dir,
                                              const std::string& prefix = fresh_prefix()) {
  if (!on_s3()) return std::make_unique<LocalStore>(dir);
  return std::make_unique<S3Store>(std::make_shared<s3::Client>(test_s3_config()), prefix);
}

}  // namespace nj::recording::testing
