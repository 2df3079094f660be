#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace nj {
namespace {

enum class Code { kBad, kWorse };
using E = Error<Code>;

Result<int, E> parse_positive(int v) {
  if (v <= 0) return Unexpected(E{Code::kBad, "not positive"});
  return v;
}

TEST(Result, HoldsValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kBad);
  EXPECT_EQ(bad.error().message, "not positive");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, MovesOnlyTypes) {
  Result<std::unique_ptr<int>, E> r(std::make_unique<int>(5));
  ASSERT_TRUE(r);
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(Result, VoidSpecialisation) {
  Result<void, E> ok;
  EXPECT_TRUE(ok);
  Result<void, E> bad = Unexpected(E{Code::kWorse, "x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kWorse);
}

}  // namespace
}  // namespace nj
