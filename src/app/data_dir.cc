#include "app/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace nj::app {
namespace fs = std::filesystem;

Result<DataDir, std::string> DataDir::open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unexpected("cannot create data directory " + dir.string() + ": " + ec.message());
  const auto lock_path = dir / "nightjar.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unexpected("cannot open " + lock_path.string() + ": " +
                      std::error_code(errno, std::generic_category()).message());
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Unexpected("another nightjar server is using " + dir.string());
  }
  return DataDir(fs::absolute(dir), fd);
}

DataDir::DataDir(DataDir&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(std::exchange(other.lock_fd_, -1)) {}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

Result<void, std::string> DataDir::write_ports(const std::map<std::string, uint16_t>& ports) const {
  std::string json = "{";
  for (const auto& [name, port] : ports) {
    if (json.size() > 1) json += ", ";
    json += "\"" + name + "\": " + std::to_string(port);
  }
  json += "}\n";
  const auto tmp = dir_ / "ports.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
    if (!out.flush()) return Unexpected("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, ports_file(), ec);
  if (ec) return Unexpected("cannot write " + ports_file().string() + ": " + ec.message());
  return {};
}

void DataDir::remove_ports() const {
  std::error_code ec;
  fs::remove(ports_file(), ec);
}

}  // namespace nj::app
