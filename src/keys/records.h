// Sealed records (docs/keys.md): a file of many independently sealed pieces, each openable
// alone, so that a reader seeks to a piece and opens only what it needs: a recording segment
// (its init segment, then one record per fMP4 fragment) or a data export (fixed-size
// chunks). A record is
//
//   "NJR1"  u32 plain length (big-endian)  24-byte nonce  ciphertext  16-byte tag
//
// XChaCha20-Poly1305 with a random nonce; the associated data is the 8-byte header followed by
// the caller's context (what file and which piece of it: e.g. device, segment and index), so
// a record moved to another place, another file or another length does not open.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "keys/key_store.h"

namespace nj::keys {

inline constexpr size_t kRecordHeader = 8;
inline constexpr size_t kRecordOverhead = kRecordHeader + 24 + 16;  // 48 bytes per record

// Appends the sealed record of `plain` to `out`.
void seal_record(const Key& key, std::string_view context, std::span<const uint8_t> plain,
                 std::vector<uint8_t>& out);
// The plain length a record's first kRecordHeader bytes announce; nullopt if they are not a
// record header.
std::optional<uint32_t> record_plain_size(std::span<const uint8_t> header);
// Opens a whole record (header to tag) into `plain` (replacing its contents). False if it is
// not a record sealed with this key and context, or it was changed.
bool open_record(const Key& key, std::string_view context, std::span<const uint8_t> record,
                 std::vector<uint8_t>& plain);

// Bytes [offset, offset + cipher.size()) of a record's plain text, deciphered WITHOUT checking
// its tag: `head` is the record's first kRecordHeader + 24 bytes (header and nonce), `cipher`
// its ciphertext from plain offset `offset`. For finding boxes while planning a clip only;
// bytes that leave the server always come from open_record, which checks the tag.
void peek_record(const Key& key, std::span<const uint8_t> head, uint64_t offset,
                 std::span<const uint8_t> cipher, std::vector<uint8_t>& plain);
inline constexpr size_t kRecordHead = kRecordHeader + 24;  // header and nonce

// A whole file sealed in chunks of kChunk plain bytes (the last may be shorter, even empty),
// chunk i with `context` + "\n" + i as its context: a data export. Written in order, read at
// any offset; a reader opens only the chunks a range covers.
inline constexpr size_t kChunk = 1 << 20;

class SealedFileWriter {
 public:
  SealedFileWriter(const std::filesystem::path& path, const Key& key, std::string context);
  ~SealedFileWriter();
  SealedFileWriter(const SealedFileWriter&) = delete;
  SealedFileWriter& operator=(const SealedFileWriter&) = delete;
  bool write(std::span<const uint8_t> bytes);
  // Seals the last chunk, syncs and closes; false if anything failed along the way.
  bool close();

 private:
  bool flush_chunk();
  std::FILE* file_ = nullptr;
  Key key_;
  std::string context_;
  std::vector<uint8_t> chunk_, sealed_;
  uint64_t index_ = 0;
  bool ok_ = true;
};

class SealedFileReader {
 public:
  // nullptr if the file is missing or its length is not that of a sealed file.
  static std::unique_ptr<SealedFileReader> open(const std::filesystem::path& path, const Key& key,
                                                std::string context);
  // The same file kept elsewhere (an object store): `sealed_size` bytes, read by `source`
  // (exactly the bytes asked for, or nullopt).
  using Source =
      std::function<std::optional<std::vector<uint8_t>>(uint64_t offset, uint64_t length)>;
  static std::unique_ptr<SealedFileReader> open(Source source, uint64_t sealed_size, const Key& key,
                                                std::string context);
  uint64_t size() const { return size_; }  // plain bytes
  // Bytes [offset, offset + length) of the plain file; nullopt if a chunk does not open.
  std::optional<std::vector<uint8_t>> read(uint64_t offset, uint64_t length);

 private:
  SealedFileReader(Source source, const Key& key, std::string context, uint64_t size)
      : source_(std::move(source)), key_(key), context_(std::move(context)), size_(size) {}
  Source source_;
  Key key_;
  std::string context_;
  uint64_t size_;
  std::mutex mu_;
  uint64_t cached_ = UINT64_MAX;
  std::vector<uint8_t> opened_;
};

}  // namespace nj::keys
