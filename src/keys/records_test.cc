#include "keys/records.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nj::keys {
namespace {

Key some_key(uint8_t seed) {
  Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i * 7);
  return k;
}

std::vector<uint8_t> message(size_t n) {
  std::vector<uint8_t> m(n);
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<uint8_t>(i * 31 + 5);
  return m;
}

TEST(SealedRecords, ARecordOpensOnlyWhereItWasSealedAndUnchanged) {
  ASSERT_GE(sodium_init(), 0);
  const auto key = some_key(1);
  const auto plain = message(5000);
  std::vector<uint8_t> file;
  seal_record(key, "seg-1\n0", plain, file);
  const size_t first = file.size();
  seal_record(key, "seg-1\n1", plain, file);
  ASSERT_EQ(first, plain.size() + kRecordOverhead);
  ASSERT_EQ(record_plain_size(file), 5000u);
  const std::span<const uint8_t> a(file.data(), first), b(file.data() + first, first);
  std::vector<uint8_t> out;
  ASSERT_TRUE(open_record(key, "seg-1\n0", a, out));
  EXPECT_EQ(out, plain);
  ASSERT_TRUE(open_record(key, "seg-1\n1", b, out));
  EXPECT_EQ(out, plain);
  EXPECT_NE(std::vector<uint8_t>(a.begin() + kRecordHead, a.end()),
            std::vector<uint8_t>(b.begin() + kRecordHead, b.end()))
      << "each record has its own nonce";
  EXPECT_FALSE(open_record(key, "seg-1\n1", a, out)) << "moved to another index";
  EXPECT_FALSE(open_record(key, "seg-2\n0", a, out)) << "moved to another file";
  EXPECT_FALSE(open_record(some_key(2), "seg-1\n0", a, out)) << "another key";
  EXPECT_FALSE(open_record(key, "seg-1\n0", a.first(first - 1), out)) << "cut short";
  for (size_t at : {size_t{0}, size_t{5}, size_t{9}, kRecordHead, first - 1}) {
    auto changed = std::vector<uint8_t>(a.begin(), a.end());
    changed[at] ^= 0x40;
    EXPECT_FALSE(open_record(key, "seg-1\n0", changed, out)) << "byte " << at;
  }
  EXPECT_FALSE(record_plain_size(std::span<const uint8_t>(plain).first(8)));
}

// The record's AEAD is libsodium's XChaCha20-Poly1305 (IETF), byte for byte, though the bulk
// runs in OpenSSL: each opens what the other sealed.
TEST(SealedRecords, RecordsAreLibsodiumsXChaCha20Poly1305BothWays) {
  ASSERT_GE(sodium_init(), 0);
  const auto key = some_key(9);
  for (const size_t n :
       {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{1000}, size_t{70'001}}) {
    const auto plain = message(n);
    std::vector<uint8_t> record;
    seal_record(key, "the context", plain, record);
    ASSERT_EQ(record.size(), n + kRecordOverhead);
    const std::string ad =
        std::string(reinterpret_cast<const char*>(record.data()), 8) + "the context";
    std::vector<uint8_t> opened(n);
    unsigned long long len = 0;
    ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                  opened.data(), &len, nullptr, record.data() + kRecordHead, n + 16,
                  reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
                  record.data() + kRecordHeader, key.data()),
              0)
        << n;
    EXPECT_EQ(opened, plain);
    // And libsodium's own sealing opens here.
    std::vector<uint8_t> theirs(record.begin(), record.begin() + kRecordHead);
    theirs.resize(n + kRecordOverhead);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        theirs.data() + kRecordHead, &len, plain.data(), plain.size(),
        reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr,
        theirs.data() + kRecordHeader, key.data());
    EXPECT_EQ(theirs, record) << "same nonce, same bytes";
    std::vector<uint8_t> out;
    EXPECT_TRUE(open_record(key, "the context", theirs, out));
    EXPECT_EQ(out, plain);
  }
}

TEST(SealedRecords, APeekDeciphersAnyRangeAsOpeningWould) {
  const auto key = some_key(3);
  const auto plain = message(70'000);
  std::vector<uint8_t> record;
  seal_record(key, "ctx", plain, record);
  const std::span<const uint8_t> all(record);
  std::vector<uint8_t> out;
  for (auto [at, n] : {std::pair<size_t, size_t>{0, 8},
                       {1, 63},
                       {63, 2},
                       {64, 64},
                       {100, 5000},
                       {69'990, 10},
                       {12'345, 1}}) {
    peek_record(key, all.first(kRecordHead), at, all.subspan(kRecordHead + at, n), out);
    EXPECT_EQ(out, std::vector<uint8_t>(plain.begin() + static_cast<long>(at),
                                        plain.begin() + static_cast<long>(at + n)))
        << at << "+" << n;
  }
}

// A sealed file is read back exactly, at any offset, across its 1 MiB chunks; a cut or a
// changed file does not open.
TEST(SealedFile, ReadsBackAtAnyOffsetAndRefusesACutOrChangedFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-sealed-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Key key{};
  key[0] = 7;
  std::string plain(kChunk * 2 + 12'345, '\0');
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>(i * 13 + i / 7);
  for (const size_t size : {size_t{0}, size_t{10}, kChunk, plain.size()}) {
    const auto path = dir / "f";
    SealedFileWriter w(path, key, "ctx");
    ASSERT_TRUE(w.write(std::span(reinterpret_cast<const uint8_t*>(plain.data()), size / 2)));
    ASSERT_TRUE(w.write(
        std::span(reinterpret_cast<const uint8_t*>(plain.data()) + size / 2, size - size / 2)));
    ASSERT_TRUE(w.close());
    auto r = SealedFileReader::open(path, key, "ctx");
    ASSERT_TRUE(r) << size;
    ASSERT_EQ(r->size(), size);
    for (auto [at, n] : {std::pair<uint64_t, uint64_t>{0, size},
                         {size / 3, 5},
                         {kChunk - 3, 10},
                         {size > 0 ? size - 1 : 0, 100}}) {
      auto got = r->read(at, n);
      ASSERT_TRUE(got) << size << " " << at;
      const uint64_t end = std::min<uint64_t>(size, at + n);
      EXPECT_EQ(std::string(got->begin(), got->end()),
                at < end ? plain.substr(at, end - at) : std::string())
          << size << " " << at;
    }
    if (size > 0) {
      EXPECT_FALSE(SealedFileReader::open(path, key, "other")->read(0, 1)) << "another context";
    }
  }
  // Cut at a chunk boundary, and with a changed byte.
  {
    const auto path = dir / "f";
    SealedFileWriter w(path, key, "ctx");
    ASSERT_TRUE(w.write(std::span(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())));
    ASSERT_TRUE(w.close());
    std::filesystem::resize_file(path, kChunk + kRecordOverhead);
    EXPECT_FALSE(SealedFileReader::open(path, key, "ctx"));
  }
  {
    const auto path = dir / "f";
    SealedFileWriter w(path, key, "ctx");
    ASSERT_TRUE(w.write(std::span(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())));
    ASSERT_TRUE(w.close());
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kChunk + 5000);
    f.put('x');
    f.close();
    auto r = SealedFileReader::open(path, key, "ctx");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->read(0, 10));
    EXPECT_FALSE(r->read(kChunk + 10, 10));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nj::keys
