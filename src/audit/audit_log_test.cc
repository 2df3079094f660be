#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::audit {
namespace {

using store::Value;

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest()
      : db_(store::testing::open_test_database()),
        clock_(1'800'000'000'000),
        signer_(std::vector<uint8_t>(32, 7)),
        dir_(std::filesystem::temp_directory_path() /
             ("nj-audit-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    std::filesystem::remove_all(dir_);
    const Value u[] = {std::string("ann-user-id"), std::string("ann@example.org")};
    EXPECT_TRUE(
        db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                     "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                     u));
  }
  ~AuditLogTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
  // Appends n rows of someone watching camera d1 (binding 1).
  void watch(AuditLog& log, int n) {
    const auto actor = log.actor_of("ann-user-id");
    for (int i = 0; i < n; ++i) {
      clock_.advance_ms(1000);
      ASSERT_TRUE(log.append({"live", "d1", 1, actor, AuditLog::session_of("s1"), "{}"}));
    }
  }
  std::vector<std::string> problems() {
    return verify(*db_, signer_.public_hex(), checkpoints()).problems;
  }

  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  Signer signer_;
  std::filesystem::path dir_;
};

// Two writers at once on one database (two nodes: each its own log, its own lock, the pool's
// connections): every row is kept, numbered without a gap, and the chain verifies.
TEST_F(AuditLogTest, TwoNodesAppendingAtOnceKeepOneWholeChain) {
  AuditLog a(*db_, clock_, signer_, checkpoints(), 1000),
      b(*db_, clock_, signer_, checkpoints(), 1000);
  const auto actor = a.actor_of("ann-user-id");
  std::atomic<int> failed{0};
  const auto write = [&](AuditLog& log, const char* device) {
    for (int i = 0; i < 100; ++i) {
      if (!log.append({"live", device, 1, actor, AuditLog::session_of("s1"), "{}"})) ++failed;
    }
  };
  std::thread on_a(write, std::ref(a), "d1"), on_b(write, std::ref(b), "d2");
  on_a.join();
  on_b.join();
  EXPECT_EQ(failed.load(), 0);
  a.checkpoint();
  const auto report = verify(*db_, signer_.public_hex(), checkpoints());
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(report.rows, 200);
}

TEST_F(AuditLogTest, AnUntouchedChainAndItsCheckpointsVerify) {
  AuditLog log(*db_, clock_, signer_, checkpoints(), 4);
  watch(log, 10);
  log.checkpoint();
  const auto report = verify(*db_, signer_.public_hex(), checkpoints());
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(report.rows, 10);
  EXPECT_EQ(report.checkpoints, 3);  // after rows 4 and 8, and the head (10)
  // The owner's view: newest first, the actor's e-mail known, the session pseudonymous.
  const auto entries = log.of_device("d1", 1);
  ASSERT_EQ(entries.size(), 10u);
  EXPECT_EQ(entries[0].seq, 10);
  EXPECT_EQ(entries[0].email, "ann@example.org");
  EXPECT_EQ(entries[0].record.session.size(), 12u);
  EXPECT_EQ(entries[0].record.session.find("s1"), std::string::npos);
  EXPECT_TRUE(log.of_device("d1", 2).empty()) << "another binding sees none of it";
}

TEST_F(AuditLogTest, AChangedRemovedOrInsertedRowIsFound) {
  AuditLog log(*db_, clock_, signer_, checkpoints(), 100);
  watch(log, 6);
  ASSERT_TRUE(problems().empty());
  // A field changed.
  ASSERT_TRUE(db_->execute("UPDATE audit_log SET kind = 'snapshot' WHERE seq = 3", {}));
  auto p = problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p.front().find("row 3"), std::string::npos) << p.front();
  ASSERT_TRUE(db_->execute("UPDATE audit_log SET kind = 'live' WHERE seq = 3", {}));
  ASSERT_TRUE(problems().empty());
  // Its hash recomputed too: the next row no longer chains to it.
  {
    auto row = db_->query("SELECT at_ms, hash FROM audit_log WHERE seq = 2", {});
    const Record forged{
        "snapshot", "d1", 1, log.actor_of("ann-user-id"), AuditLog::session_of("s1"), "{}"};
    const Value set[] = {chain_hash(3, (*row)[0].text(1), clock_.now_ms(), forged),
                         clock_.now_ms()};
    ASSERT_TRUE(db_->execute(
        "UPDATE audit_log SET kind = 'snapshot', hash = $1, at_ms = $2 WHERE seq = 3", set));
    p = problems();
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p.front().find("row 4"), std::string::npos) << p.front();
  }
}

TEST_F(AuditLogTest, ARowTakenOutOrTheTailCutOffIsFound) {
  {
    AuditLog log(*db_, clock_, signer_, checkpoints(), 100);
    watch(log, 6);
    ASSERT_TRUE(db_->execute("DELETE FROM audit_log WHERE seq = 4", {}));
    const auto p = problems();
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p.front().find("missing"), std::string::npos) << p.front();
  }
  // The last rows deleted: the chain left is whole, but the checkpoint says it went further.
  std::filesystem::remove_all(dir_);
  ASSERT_TRUE(db_->execute("DELETE FROM audit_log", {}));
  AuditLog log(*db_, clock_, signer_, checkpoints(), 100);
  watch(log, 6);
  log.checkpoint();
  ASSERT_TRUE(problems().empty());
  ASSERT_TRUE(db_->execute("DELETE FROM audit_log WHERE seq >= 5", {}));
  const auto p = problems();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p.front().find("cut off"), std::string::npos) << p.front();
}

TEST_F(AuditLogTest, ACheckpointChangedOrForgedIsFound) {
  AuditLog log(*db_, clock_, signer_, checkpoints(), 3);
  watch(log, 6);
  ASSERT_TRUE(problems().empty());
  std::string text;
  {
    std::ifstream in(checkpoints());
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Its sequence number changed.
  std::string changed = text;
  changed[0] = changed[0] == '3' ? '2' : '3';
  std::ofstream(checkpoints(), std::ios::trunc) << changed;
  auto p = problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p.front().find("checkpoint line 1"), std::string::npos) << p.front();
  // Signed by another key.
  const Signer other(std::vector<uint8_t>(32, 9));
  const auto row = db_->query("SELECT hash FROM audit_log WHERE seq = 6", {});
  const std::string hash = (*row)[0].text(0);
  std::ofstream(checkpoints(), std::ios::trunc)
      << "6 5 " << hash << ' ' << other.sign_hex(checkpoint_message(6, hash, 5)) << '\n';
  p = problems();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p.front().find("not a checkpoint signed by this server's key"), std::string::npos);
}

TEST_F(AuditLogTest, ForgettingAPersonLeavesTheChainWholeAndNamesNoOne) {
  AuditLog log(*db_, clock_, signer_, checkpoints(), 100);
  watch(log, 3);
  const auto actor = log.actor_of("ann-user-id");
  EXPECT_EQ(actor.size(), 2u + 32u);
  EXPECT_EQ(log.actor_of("ann-user-id"), actor) << "one pseudonym per person";
  log.forget_user("ann-user-id");
  EXPECT_TRUE(problems().empty());
  const auto entries = log.of_device("d1", 1);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_FALSE(entries[0].email) << "no longer leads to the person";
  EXPECT_EQ(entries[0].record.actor, actor);
  // Nothing in the log holds the user id or the address.
  auto rows = db_->query("SELECT * FROM audit_log", {});
  for (const auto& r : *rows) {
    for (size_t i = 0; i < r.values.size(); ++i) {
      EXPECT_EQ(r.text(i).find("ann-user-id"), std::string::npos);
      EXPECT_EQ(r.text(i).find("ann@"), std::string::npos);
    }
  }
}

TEST_F(AuditLogTest, TheRecorderWritesInTheBackgroundOnceAnAccessAndKeepsItsBinding) {
  AuditLog log(*db_, clock_, signer_, checkpoints(), 100);
  int64_t generation_now = 1;
  AccessRecorder recorder(log, clock_,
                          [&](const Access&) -> std::optional<std::pair<std::string, int64_t>> {
                            return std::make_pair(std::string("d1"), generation_now);
                          });
  const Access live{"live", "SER-1", "", "ann-user-id", "session-1", "", int64_t{1}};
  recorder.record(live);
  recorder.record(live);  // a reconnect: the same access
  recorder.record({"snapshot", "SER-1", "", "ann-user-id", "session-1", "", int64_t{1}});
  // The camera changes hands before this one is written: it stays with the binding it was
  // opened under.
  generation_now = 2;
  recorder.record({"talk", "SER-1", "", "ann-user-id", "session-1", "", int64_t{1}});
  recorder.flush();
  EXPECT_EQ(log.of_device("d1", 1).size(), 3u);
  EXPECT_TRUE(log.of_device("d1", 2).empty()) << "nothing of the last binding for the next";
  clock_.advance_ms(10 * 60 * 1000);
  recorder.record(live);  // ten minutes on: a new access
  recorder.flush();
  EXPECT_EQ(log.of_device("d1", 1).size(), 4u);
  EXPECT_TRUE(problems().empty());
}

}  // namespace
}  // namespace nj::audit
