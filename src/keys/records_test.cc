#include "keys/records.h"

#include <gtest/gtest.h>
#include <sodium.h>

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

}  // namespace
}  // namespace nj::keys
