#include "recording/store.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace nj::recording {

bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.size() > 512) return false;
  std::string_view rest = key;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return key.find('\0') == std::string::npos;
}

LocalStore::~LocalStore() {
  for (auto& [key, fd] : open_) ::close(fd);
}

Result<void, std::string> LocalStore::append(const std::string& key, std::span<const uint8_t> bytes,
                                             bool sync) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(key);
    if (it == open_.end()) {
      const auto path = root_ / key;
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (fd < 0)
        return Unexpected("cannot open " + path.string() + ": " +
                          std::generic_category().message(errno));
      it = open_.emplace(key, fd).first;
    }
    fd = it->second;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return Unexpected("cannot write " + key + ": " +
                        std::generic_category().message(n < 0 ? errno : EIO));
    done += static_cast<size_t>(n);
  }
  if (sync) {
    if (::fdatasync(fd) != 0) {
      return Unexpected("cannot sync " + key + ": " + std::generic_category().message(errno));
    }
    drop_durable(fd);
  }
  return {};
}

// Recorded media are written once and read back rarely, and then at a player's pace: once
// durable, their pages leave the page cache instead of pushing out what is read often (the
// database, the web app), and the next fragment is written into pages just freed. On this
// VM that made recording 200 cameras 2.5× cheaper in CPU (docs/BENCHMARKS.md, issue #18):
// pages just freed cost less to fill than fresh ones. The page the next fragment continues
// is kept, else that append would read it back from the disk first.
void LocalStore::drop_durable(int fd) {
  static const auto page = static_cast<off_t>(::sysconf(_SC_PAGESIZE));
  const off_t end = ::lseek(fd, 0, SEEK_CUR);  // O_APPEND: the end of the file
  if (end < 0 || page <= 0) return;
  // The whole file up to its last whole page: all of it is durable now (an unsynced append
  // before, the init segment, too). Passing over pages already gone costs about 0.5 µs for
  // a 10-minute segment's 143 MB here.
  const off_t whole = end / page * page;
  if (whole > 0) (void)::posix_fadvise(fd, 0, whole, POSIX_FADV_DONTNEED);
}

void LocalStore::close(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = open_.find(key); it != open_.end()) {
    ::close(it->second);
    open_.erase(it);
  }
}

Result<void, std::string> LocalStore::truncate(const std::string& key, uint64_t size) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  std::error_code ec;
  std::filesystem::resize_file(root_ / key, size, ec);
  if (ec) return Unexpected("cannot truncate " + key + ": " + ec.message());
  return {};
}

Result<std::vector<uint8_t>, std::string> LocalStore::read(const std::string& key, uint64_t offset,
                                                           uint64_t length) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  const int fd = ::open((root_ / key).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Unexpected(std::string(kNoFile) + key);
  if (fd < 0)
    return Unexpected("cannot open " + key + ": " + std::generic_category().message(errno));
  std::vector<uint8_t> out(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the end of the file
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

Result<uint64_t, std::string> LocalStore::size(const std::string& key) {
  if (!valid_key(key)) return Unexpected("bad key " + key);
  std::error_code ec;
  const auto n = std::filesystem::file_size(root_ / key, ec);
  if (ec) return Unexpected(std::string(kNoFile) + key);
  return static_cast<uint64_t>(n);
}

bool LocalStore::remove(const std::string& key) {
  if (!valid_key(key)) return false;
  close(key);
  std::error_code ec;
  const bool removed = std::filesystem::remove(root_ / key, ec);
  // Empty day and device directories go with their last file.
  auto dir = (root_ / key).parent_path();
  for (int i = 0; i < 2 && dir != root_; ++i, dir = dir.parent_path()) {
    if (!std::filesystem::is_empty(dir, ec) || ec) break;
    std::filesystem::remove(dir, ec);
  }
  return removed;
}

std::vector<std::string> LocalStore::list(const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  const auto base = root_ / prefix;
  for (auto it = std::filesystem::recursive_directory_iterator(base, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      out.push_back(std::filesystem::relative(it->path(), root_, ec).string());
    }
  }
  return out;
}

uint64_t LocalStore::free_bytes() {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  struct statvfs st {};
  if (::statvfs(root_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

RegionalStore::RegionalStore(const std::map<std::string, std::filesystem::path>& roots,
                             const std::string& default_region) {
  for (const auto& [region, root] : roots) stores_[region] = std::make_unique<LocalStore>(root);
  if (auto it = stores_.find(default_region); it != stores_.end()) fallback_ = it->second.get();
}

RegionalStore::RegionalStore(std::map<std::string, std::unique_ptr<Store>> stores,
                             const std::string& default_region)
    : stores_(std::move(stores)) {
  if (auto it = stores_.find(default_region); it != stores_.end()) fallback_ = it->second.get();
}

Store* RegionalStore::of(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return nullptr;
  const auto it = stores_.find(key.substr(0, slash));
  return it == stores_.end() ? fallback_ : it->second.get();
}

Result<void, std::string> RegionalStore::append(const std::string& key,
                                                std::span<const uint8_t> bytes, bool sync) {
  auto* s = of(key);
  if (!s) return Unexpected("no region for " + key);
  return s->append(key, bytes, sync);
}

void RegionalStore::close(const std::string& key) {
  if (auto* s = of(key)) s->close(key);
}

Result<void, std::string> RegionalStore::truncate(const std::string& key, uint64_t size) {
  auto* s = of(key);
  if (!s) return Unexpected("no region for " + key);
  return s->truncate(key, size);
}

Result<std::vector<uint8_t>, std::string> RegionalStore::read(const std::string& key,
                                                              uint64_t offset, uint64_t length) {
  auto* s = of(key);
  if (!s) return Unexpected("no region for " + key);
  return s->read(key, offset, length);
}

Result<uint64_t, std::string> RegionalStore::size(const std::string& key) {
  auto* s = of(key);
  if (!s) return Unexpected("no region for " + key);
  return s->size(key);
}

Result<std::vector<uint8_t>, std::string> RegionalStore::get(const std::string& key) {
  auto* s = of(key);
  if (!s) return Unexpected("no region for " + key);
  return s->get(key);
}

bool RegionalStore::remove(const std::string& key) {
  auto* s = of(key);
  return s && s->remove(key);
}

std::vector<std::string> RegionalStore::list(const std::string& prefix) {
  auto* s = of(prefix);
  return s ? s->list(prefix) : std::vector<std::string>{};
}

uint64_t RegionalStore::free_bytes() {
  uint64_t least = UINT64_MAX;
  for (auto& [region, s] : stores_) least = std::min(least, s->free_bytes());
  return least == UINT64_MAX ? 0 : least;
}

uint64_t RegionalStore::free_bytes_for(const std::string& prefix) {
  auto* s = of(prefix);
  return s ? s->free_bytes() : 0;
}

}  // namespace nj::recording
