#include "keys/records.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace nj::keys {
namespace {

constexpr uint8_t kMagic[4] = {'N', 'J', 'R', '1'};
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kRecordOverhead == kRecordHeader + kNonce + kTag);

std::string associated(std::span<const uint8_t> header, std::string_view context) {
  std::string ad(reinterpret_cast<const char*>(header.data()), kRecordHeader);
  ad += context;
  return ad;
}

}  // namespace

void seal_record(const Key& key, std::string_view context, std::span<const uint8_t> plain,
                 std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kRecordOverhead + plain.size());
  uint8_t* p = out.data() + at;
  std::copy(std::begin(kMagic), std::end(kMagic), p);
  const auto n = static_cast<uint32_t>(plain.size());
  p[4] = static_cast<uint8_t>(n >> 24);
  p[5] = static_cast<uint8_t>(n >> 16);
  p[6] = static_cast<uint8_t>(n >> 8);
  p[7] = static_cast<uint8_t>(n);
  uint8_t* nonce = p + kRecordHeader;
  randombytes_buf(nonce, kNonce);
  const std::string ad = associated({p, kRecordHeader}, context);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &written, plain.data(), plain.size(),
                                             reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
                                             nullptr, nonce, key.data());
}

std::optional<uint32_t> record_plain_size(std::span<const uint8_t> header) {
  if (header.size() < kRecordHeader ||
      !std::equal(std::begin(kMagic), std::end(kMagic), header.begin())) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(header[4]) << 24 | static_cast<uint32_t>(header[5]) << 16 |
         static_cast<uint32_t>(header[6]) << 8 | header[7];
}

bool open_record(const Key& key, std::string_view context, std::span<const uint8_t> record,
                 std::vector<uint8_t>& plain) {
  const auto size = record_plain_size(record);
  if (!size || record.size() != kRecordOverhead + *size) return false;
  const std::string ad = associated(record.first(kRecordHeader), context);
  const uint8_t* nonce = record.data() + kRecordHeader;
  plain.resize(*size);
  unsigned long long opened = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &opened, nullptr, nonce + kNonce, *size + kTag,
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nonce, key.data()) != 0) {
    plain.clear();
    return false;
  }
  return true;
}

void peek_record(const Key& key, std::span<const uint8_t> head, uint64_t offset,
                 std::span<const uint8_t> cipher, std::vector<uint8_t>& plain) {
  plain.clear();
  if (head.size() < kRecordHead) return;
  // The AEAD enciphers the message with XChaCha20 from block 1 (block 0 keys Poly1305): the
  // same stream, started at the block holding `offset`.
  const uint64_t block = offset / 64, skip = offset % 64;
  std::vector<uint8_t> buffer(skip + cipher.size(), 0);
  std::copy(cipher.begin(), cipher.end(), buffer.begin() + static_cast<std::ptrdiff_t>(skip));
  crypto_stream_xchacha20_xor_ic(buffer.data(), buffer.data(), buffer.size(),
                                 head.data() + kRecordHeader, 1 + block, key.data());
  plain.assign(buffer.begin() + static_cast<std::ptrdiff_t>(skip), buffer.end());
}

SealedFileWriter::SealedFileWriter(const std::filesystem::path& path, const Key& key,
                                   std::string context)
    : file_(std::fopen(path.c_str(), "wb")), key_(key), context_(std::move(context)) {
  ok_ = file_ != nullptr;
  if (file_) ::fchmod(::fileno(file_), 0600);
  chunk_.reserve(kChunk);
}

SealedFileWriter::~SealedFileWriter() {
  if (file_) std::fclose(file_);
}

bool SealedFileWriter::flush_chunk() {
  sealed_.clear();
  seal_record(key_, context_ + "\n" + std::to_string(index_++), chunk_, sealed_);
  chunk_.clear();
  ok_ = ok_ && std::fwrite(sealed_.data(), 1, sealed_.size(), file_) == sealed_.size();
  return ok_;
}

bool SealedFileWriter::write(std::span<const uint8_t> bytes) {
  while (ok_ && !bytes.empty()) {
    const size_t n = std::min(bytes.size(), kChunk - chunk_.size());
    chunk_.insert(chunk_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (chunk_.size() == kChunk) flush_chunk();
  }
  return ok_;
}

bool SealedFileWriter::close() {
  if (!file_) return false;
  // The last chunk, even empty: a file always ends with a short chunk, so a cut one shows.
  flush_chunk();
  ok_ = ok_ && std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  std::fclose(file_);
  file_ = nullptr;
  return ok_;
}

std::unique_ptr<SealedFileReader> SealedFileReader::open(const std::filesystem::path& path,
                                                         const Key& key, std::string context) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  constexpr uint64_t kWhole = kChunk + kRecordOverhead;
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kRecordOverhead) ||
      static_cast<uint64_t>(st.st_size) % kWhole == 0) {
    ::close(fd);
    return nullptr;
  }
  const auto bytes = static_cast<uint64_t>(st.st_size);
  const uint64_t last = bytes % kWhole;  // the short chunk, sealed
  if (last < kRecordOverhead) {
    ::close(fd);
    return nullptr;
  }
  const uint64_t size = bytes / kWhole * kChunk + (last - kRecordOverhead);
  return std::unique_ptr<SealedFileReader>(new SealedFileReader(fd, key, std::move(context), size));
}

SealedFileReader::~SealedFileReader() { ::close(fd_); }

std::optional<std::vector<uint8_t>> SealedFileReader::read(uint64_t offset, uint64_t length) {
  const uint64_t end = std::min(size_, offset + length);
  std::vector<uint8_t> out;
  if (offset >= end) return out;
  out.reserve(end - offset);
  std::lock_guard lock(mu_);
  for (uint64_t at = offset; at < end;) {
    const uint64_t i = at / kChunk;
    if (cached_ != i) {
      const uint64_t plain = std::min<uint64_t>(kChunk, size_ - i * kChunk);
      std::vector<uint8_t> record(plain + kRecordOverhead);
      const auto got = ::pread(fd_, record.data(), record.size(),
                               static_cast<off_t>(i * (kChunk + kRecordOverhead)));
      if (got != static_cast<ssize_t>(record.size()) ||
          !open_record(key_, context_ + "\n" + std::to_string(i), record, opened_)) {
        cached_ = UINT64_MAX;
        return std::nullopt;
      }
      cached_ = i;
    }
    const uint64_t from = at - i * kChunk;
    const uint64_t to = std::min<uint64_t>(end - i * kChunk, opened_.size());
    if (to <= from) return std::nullopt;
    out.insert(out.end(), opened_.begin() + static_cast<std::ptrdiff_t>(from),
               opened_.begin() + static_cast<std::ptrdiff_t>(to));
    at = i * kChunk + to;
  }
  return out;
}

}  // namespace nj::keys
