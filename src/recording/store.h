// Where recorded media lives (docs/recording.md, storage): files named by key
// ("{region}/{serial}/{YYYY-MM-DD}/{start_ms}-{id}.mp4"), written append-only until closed.
// The local filesystem implements it (LocalStore), and S3-compatible object storage
// (recording/s3_store.h), each region on its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::recording {

// How size() and read() say that a file is not there, as against the store not answering.
inline constexpr std::string_view kNoFile = "no file ";

// Why something kept in a store (a picture, an export) cannot be read: there is none (never
// kept, removed, or its key destroyed), or the store cannot be reached now (a bucket away:
// the caller answers 503 and the person tries again; nothing is lost).
enum class Unreadable { kMissing, kUnavailable };

class Store {
 public:
  virtual ~Store() = default;
  // Appends to the file (created if missing). With sync, the bytes are durable on return.
  virtual Result<void, std::string> append(const std::string& key, std::span<const uint8_t> bytes,
                                           bool sync) = 0;
  // No more appends to this file for now (releases what append kept open).
  virtual void close(const std::string& key) = 0;
  virtual Result<void, std::string> truncate(const std::string& key, uint64_t size) = 0;
  virtual Result<std::vector<uint8_t>, std::string> read(const std::string& key, uint64_t offset,
                                                         uint64_t length) = 0;
  // The file's size; an error if there is no such file (starting with kNoFile), or if the
  // store could not say (any other error: an object store out of reach).
  virtual Result<uint64_t, std::string> size(const std::string& key) = 0;
  // The whole file as it is now in the store, whoever wrote it last (a small one: an event
  // picture another node may have replaced); errors as size().
  virtual Result<std::vector<uint8_t>, std::string> get(const std::string& key) {
    auto n = size(key);
    if (!n) return Unexpected(n.error());
    return read(key, 0, *n);
  }
  virtual bool remove(const std::string& key) = 0;
  // Every key under a prefix ("{region}/{serial}/"), for finding orphans.
  virtual std::vector<std::string> list(const std::string& prefix) = 0;
  // Bytes the store can still take.
  virtual uint64_t free_bytes() = 0;
  // Bytes the store can still take for keys under this prefix ("{region}/").
  virtual uint64_t free_bytes_for(const std::string& /*prefix*/) { return free_bytes(); }
};

// Files under a root directory (DIR/media).
class LocalStore final : public Store {
 public:
  explicit LocalStore(std::filesystem::path root) : root_(std::move(root)) {}
  ~LocalStore() override;
  Result<void, std::string> append(const std::string& key, std::span<const uint8_t> bytes,
                                   bool sync) override;
  void close(const std::string& key) override;
  Result<void, std::string> truncate(const std::string& key, uint64_t size) override;
  Result<std::vector<uint8_t>, std::string> read(const std::string& key, uint64_t offset,
                                                 uint64_t length) override;
  Result<uint64_t, std::string> size(const std::string& key) override;
  bool remove(const std::string& key) override;
  std::vector<std::string> list(const std::string& prefix) override;
  uint64_t free_bytes() override;

 private:
  static void drop_durable(int fd);
  std::filesystem::path root_;
  std::mutex mu_;
  std::map<std::string, int> open_;  // key → descriptor, while appending
};

// Each region's media under that region's own root (privacy::Regions): a key's first part
// ("{region}/…") says which. The file of key K is ROOT/K, so the default region's root
// (DIR/media) keeps the layout it always had; a key of no configured region (written before
// the default region was renamed) is looked for there too, where all media used to be.
class RegionalStore final : public Store {
 public:
  RegionalStore(const std::map<std::string, std::filesystem::path>& roots,
                const std::string& default_region);
  // Each region's own store (files, or a bucket: S3Store).
  RegionalStore(std::map<std::string, std::unique_ptr<Store>> stores,
                const std::string& default_region);
  Result<void, std::string> append(const std::string& key, std::span<const uint8_t> bytes,
                                   bool sync) override;
  void close(const std::string& key) override;
  Result<void, std::string> truncate(const std::string& key, uint64_t size) override;
  Result<std::vector<uint8_t>, std::string> read(const std::string& key, uint64_t offset,
                                                 uint64_t length) override;
  Result<uint64_t, std::string> size(const std::string& key) override;
  Result<std::vector<uint8_t>, std::string> get(const std::string& key) override;
  bool remove(const std::string& key) override;
  std::vector<std::string> list(const std::string& prefix) override;
  uint64_t free_bytes() override;  // the least of any region
  uint64_t free_bytes_for(const std::string& prefix) override;

 private:
  Store* of(const std::string& key);
  std::map<std::string, std::unique_ptr<Store>> stores_;
  Store* fallback_ = nullptr;
};

// A key is ours only if it stays under the root: no "..", no absolute path.
bool valid_key(const std::string& key);

}  // namespace nj::recording
