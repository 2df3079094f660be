// For the recording tests: a fresh directory, a migrated database with the test device
// (dev-1, serial CAM-1), and a file's bytes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::recording::testing {

inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("nj-rec-" + name + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::unique_ptr<store::Database> open_db(const std::filesystem::path& path) {
  auto db = store::testing::open_test_database_at(path);
  EXPECT_TRUE(store::migrate(*db, store::builtin_migrations()));
  const store::Value p[] = {std::string("dev-1")};
  (void)db->execute(
      "INSERT INTO devices (id, serial, secret_hash, created_at) "
      "VALUES ($1, 'CAM-1', 'x', 0)",
      p);
  return db;
}

// The moment of a crash: the directory (media and all) and the database as they are, copied to
// `crashed`, where recovery then runs; the recorder in `dir` never finishes there.
inline void crash_copy(const std::filesystem::path& dir, const std::filesystem::path& crashed) {
  std::filesystem::copy(
      dir, crashed,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(store::testing::copy_test_database(dir / "nj.db", crashed / "nj.db"));
}

inline std::vector<uint8_t> file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace nj::recording::testing
