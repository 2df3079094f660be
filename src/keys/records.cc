#include "keys/records.h"

#include <sodium.h>

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

}  // namespace nj::keys
