#include "app/data_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/random.h"

namespace nj::app {
namespace {
namespace fs = std::filesystem;

TEST(DataDir, CreatesLocksAndWritesPorts) {
  const auto dir = fs::temp_directory_path() / ("nj-data-" + std::to_string(::getpid())) / "deep";
  {
    auto d = DataDir::open(dir);
    ASSERT_TRUE(d) << d.error();
    EXPECT_TRUE(fs::is_directory(dir));
    auto second = DataDir::open(dir);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("another nightjar server"), std::string::npos);
    ASSERT_TRUE(d->write_ports({{"http", 8080}, {"rtsp", 8554}}));
    std::stringstream text;
    text << std::ifstream(d->ports_file()).rdbuf();
    EXPECT_EQ(text.str(), "{\"http\": 8080, \"rtsp\": 8554}\n");
    d->remove_ports();
    EXPECT_FALSE(fs::exists(d->ports_file()));
  }
  // The lock is released with the DataDir.
  EXPECT_TRUE(DataDir::open(dir));
  fs::remove_all(dir.parent_path());
}

TEST(DataDir, RandomIdsAreHexAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = random_hex_id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
}  // namespace nj::app
