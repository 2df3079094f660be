// A ZIP archive (PKWARE APPNOTE 6.3, "stored": no compression) written entry by entry to a
// file, for the data export: JSON and JPEG files that any unzip opens. Names are UTF-8,
// relative, without "..". Entries up to 4 GiB each; past 65,534 entries or 4 GiB in all, the
// ZIP64 end records (APPNOTE 4.3.14-15) and offsets (4.5.3) are written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nj {

class ZipWriter {
 public:
  // Where the archive's bytes go, in order; false stops the archive.
  using Sink = std::function<bool(std::string_view bytes)>;
  explicit ZipWriter(const std::filesystem::path& path);
  explicit ZipWriter(Sink sink) : sink_(std::move(sink)) {}
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;
  // False if the name is not a safe relative path, the entry is 4 GiB or more, or the file
  // cannot be written.
  bool add(std::string_view name, std::string_view bytes, int64_t unix_ms);
  // An entry of `size` bytes read piece by piece (never whole in memory): read once for its
  // CRC, then again into the archive. False as add, or if a read fails or comes back short.
  using Read = std::function<std::optional<std::vector<uint8_t>>(uint64_t at, uint64_t n)>;
  bool add_streamed(std::string_view name, uint64_t size, const Read& read, int64_t unix_ms);
  // Whether nothing has failed so far (an entry refused for its name or size is no failure).
  bool good() const { return ok_; }
  // Writes the central directory; false if anything failed along the way.
  bool finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0, size = 0;
    uint64_t offset = 0;
    uint16_t time = 0, date = 0;
  };
  bool put(std::string_view bytes);
  // The local header of an entry whose CRC and size are known; adds it to the directory.
  bool header(std::string_view name, uint32_t crc, uint32_t size, int64_t unix_ms);
  std::FILE* file_ = nullptr;
  Sink sink_;
  std::vector<Entry> entries_;
  uint64_t written_ = 0;
  bool ok_ = true;
};

}  // namespace nj
