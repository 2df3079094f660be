#include "keys/records.h"

#include <fcntl.h>
#include <openssl/evp.h>
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

// XChaCha20-Poly1305 (IETF) as libsodium defines it: HChaCha20 of the key and the nonce's first
// 16 bytes gives a subkey, used with ChaCha20-Poly1305 (RFC 8439) and the nonce 0000 || its
// last 8 bytes. The bulk runs in OpenSSL, whose vectorised ChaCha20 and Poly1305 are several
// times faster here than libsodium's (docs/BENCHMARKS.md); the output is byte for byte
// libsodium's, which the tests check.
struct Cipher {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~Cipher() { EVP_CIPHER_CTX_free(ctx); }
};

bool start(EVP_CIPHER_CTX* ctx, bool encrypt, const Key& key, const uint8_t* nonce,
           const std::string& ad) {
  uint8_t subkey[32];
  uint8_t iv[12] = {0, 0, 0, 0};
  crypto_core_hchacha20(subkey, nonce, key.data(), nullptr);
  std::copy(nonce + 16, nonce + 24, iv + 4);
  int n = 0;
  const bool ok =
      EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, subkey, iv, encrypt ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(ad.data()),
                       static_cast<int>(ad.size())) == 1;
  sodium_memzero(subkey, sizeof subkey);
  return ok;
}

// OpenSSL takes lengths as int: records are fragments and chunks, far below 2 GiB.
bool update(EVP_CIPHER_CTX* ctx, uint8_t* out, const uint8_t* in, size_t size) {
  int n = 0;
  return size <= INT32_MAX && EVP_CipherUpdate(ctx, out, &n, in, static_cast<int>(size)) == 1 &&
         static_cast<size_t>(n) == size;
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
  uint8_t* cipher = nonce + kNonce;
  Cipher c;
  int last = 0;
  const bool ok =
      c.ctx && start(c.ctx, true, key, nonce, ad) &&
      update(c.ctx, cipher, plain.data(), plain.size()) &&
      EVP_CipherFinal_ex(c.ctx, cipher + plain.size(), &last) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_AEAD_GET_TAG, kTag, cipher + plain.size()) == 1;
  if (!ok) {
    // Never a record that looks sealed but is not: libsodium does it instead.
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(cipher, &written, plain.data(), plain.size(),
                                               reinterpret_cast<const uint8_t*>(ad.data()),
                                               ad.size(), nullptr, nonce, key.data());
  }
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
  const uint8_t* cipher = nonce + kNonce;
  plain.resize(*size);
  Cipher c;
  int n = 0;
  uint8_t tag[kTag];
  std::copy(cipher + *size, cipher + *size + kTag, tag);
  if (!c.ctx || !start(c.ctx, false, key, nonce, ad) ||
      !update(c.ctx, plain.data(), cipher, *size) ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_AEAD_SET_TAG, kTag, tag) != 1 ||
      EVP_CipherFinal_ex(c.ctx, plain.data() + *size, &n) != 1) {
    sodium_memzero(plain.data(), plain.size());
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
  // The descriptor lives as long as the reader's source.
  auto file = std::shared_ptr<int>(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0) return nullptr;
  return open(
      [file](uint64_t offset, uint64_t length) -> std::optional<std::vector<uint8_t>> {
        std::vector<uint8_t> bytes(length);
        const auto got = ::pread(*file, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        if (got != static_cast<ssize_t>(bytes.size())) return std::nullopt;
        return bytes;
      },
      static_cast<uint64_t>(st.st_size), key, std::move(context));
}

std::unique_ptr<SealedFileReader> SealedFileReader::open(Source source, uint64_t sealed_size,
                                                         const Key& key, std::string context) {
  constexpr uint64_t kWhole = kChunk + kRecordOverhead;
  if (sealed_size < kRecordOverhead || sealed_size % kWhole == 0) return nullptr;
  const uint64_t last = sealed_size % kWhole;  // the short chunk, sealed
  if (last < kRecordOverhead) return nullptr;
  const uint64_t size = sealed_size / kWhole * kChunk + (last - kRecordOverhead);
  return std::unique_ptr<SealedFileReader>(
      new SealedFileReader(std::move(source), key, std::move(context), size));
}

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
      const auto record = source_(i * (kChunk + kRecordOverhead), plain + kRecordOverhead);
      if (!record || record->size() != plain + kRecordOverhead ||
          !open_record(key_, context_ + "\n" + std::to_string(i), *record, opened_)) {
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
