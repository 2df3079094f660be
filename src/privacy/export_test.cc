#include "privacy/export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "privacy/requests.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::privacy {
namespace {

using store::Value;

std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

class ExportTest : public ::testing::Test {
 protected:
  ExportTest()
      : db_(std::move(store::open_sqlite(":memory:")).value()),
        clock_(1'800'000'000'000),
        dir_(std::filesystem::temp_directory_path() / ("nj-export-" + std::to_string(::getpid()))),
        exports_(
            *db_, clock_, dir_,
            [](const std::string& device, const std::string& event) -> std::optional<std::string> {
              return "JPEG of " + device + "/" + event;
            }) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    std::filesystem::remove_all(dir_);
    for (const char* who : {"ann", "bob"}) {
      const std::string id = std::string(who) + "-user";
      const Value u[] = {id, std::string(who) + "@example.org"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'secret-hash', 'en', 'active', 0)",
                       u));
      const Value d[] = {std::string(who) + "-cam", "SERIAL-" + std::string(who), id};
      EXPECT_TRUE(
          db_->execute("INSERT INTO devices (id, serial, secret_hash, created_at, owner_id) "
                       "VALUES ($1, $2, 'x', 0, $3)",
                       d));
      const Value e[] = {std::string(who) + "-event", std::string(who) + "-cam"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO events (id, device_id, kind, start_ms, end_ms, snapshot_bytes) "
                       "VALUES ($1, $2, 'motion', 1000, 2000, 10)",
                       e));
      Requests requests(*db_, clock_, {});
      EXPECT_TRUE(requests.file(id, "question", std::string(who) + "'s own question"));
    }
  }
  ~ExportTest() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  std::filesystem::path dir_;
  Exports exports_;
};

TEST_F(ExportTest, HoldsEveryRecordOfThePersonAndNoneOfAnyoneElse) {
  auto queued = exports_.request("ann-user");
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->state, "queued");
  EXPECT_FALSE(exports_.request("ann-user")) << "one at a time";
  EXPECT_FALSE(exports_.file("ann-user", queued->id)) << "not ready yet";
  ASSERT_TRUE(exports_.run_next());
  EXPECT_FALSE(exports_.run_next());
  const auto ready = exports_.latest("ann-user");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->state, "ready");
  EXPECT_EQ(ready->done, ready->total);
  EXPECT_EQ(ready->expires_at, clock_.now_ms() + kExportLifetimeMs);
  const auto file = exports_.file("ann-user", ready->id);
  ASSERT_TRUE(file);
  EXPECT_FALSE(exports_.file("bob-user", ready->id)) << "not someone else's";
  const std::string zip = "'" + file->string() + "'";
  const std::string all = run("unzip -p " + zip);
  EXPECT_NE(all.find("ann@example.org"), std::string::npos);
  EXPECT_NE(all.find("SERIAL-ann"), std::string::npos);
  EXPECT_NE(all.find("ann's own question"), std::string::npos);
  EXPECT_EQ(run("unzip -p " + zip + " pictures/ann-cam/ann-event.jpg"),
            "JPEG of ann-cam/ann-event");
  for (const char* theirs : {"bob", "secret-hash"}) {
    EXPECT_EQ(all.find(theirs), std::string::npos) << theirs << " is in ann's export";
  }
  // A day later it is gone.
  clock_.advance_ms(kExportLifetimeMs + 1);
  exports_.expire();
  EXPECT_FALSE(exports_.file("ann-user", ready->id));
  EXPECT_FALSE(std::filesystem::exists(*file));
  EXPECT_EQ(exports_.latest("ann-user")->state, "expired");
  EXPECT_TRUE(exports_.request("ann-user")) << "another can be asked for";
  exports_.forget_user("ann-user");
  EXPECT_FALSE(exports_.latest("ann-user"));
}

}  // namespace
}  // namespace nj::privacy
