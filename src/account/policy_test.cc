#include "account/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace nj::account {
namespace {
namespace fs = std::filesystem;

TEST(Policy, BuiltinHasBothLanguagesAndAVersion) {
  const auto p = builtin_policy();
  EXPECT_FALSE(p.version.empty());
  EXPECT_NE(p.in("en").find("Nightjar privacy policy"), std::string::npos);
  EXPECT_NE(p.in("zh-CN").find("隐私政策"), std::string::npos);
  EXPECT_EQ(&p.in("fr"), &p.in("en")) << "unknown languages fall back to English";
}

TEST(Policy, OperatorCanReplaceIt) {
  const auto dir = fs::temp_directory_path() / ("nj-policy-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  EXPECT_FALSE(load_policy(dir)) << "version and en.md are required";
  std::ofstream(dir / "version") << "acme-7\n";
  std::ofstream(dir / "en.md") << "# ACME cameras policy\n";
  auto p = load_policy(dir);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->version, "acme-7");
  EXPECT_EQ(p->in("zh-CN"), "# ACME cameras policy\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nj::account
