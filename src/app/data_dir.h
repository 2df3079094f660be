// The data directory: created on first start, held by one server at a time (an advisory
// lock on DIR/nightjar.lock), and where ports.json tells tests and tools where we listen.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "common/result.h"

namespace nj::app {

class DataDir {
 public:
  // Creates the directory if needed and takes its lock; fails if another server holds it.
  static Result<DataDir, std::string> open(const std::filesystem::path& dir);
  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&&) = delete;
  ~DataDir();

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path database() const { return dir_ / "nightjar.db"; }
  std::filesystem::path ports_file() const { return dir_ / "ports.json"; }

  // Writes {"http": N, ...} atomically (temp file + rename), listing the listeners that are up.
  Result<void, std::string> write_ports(const std::map<std::string, uint16_t>& ports) const;
  void remove_ports() const;

 private:
  DataDir(std::filesystem::path dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::filesystem::path dir_;
  int lock_fd_;
};

}  // namespace nj::app
