#include "privacy/requests.h"

#include <gtest/gtest.h>

#include "common/time.h"
#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::privacy {
namespace {

int64_t at(const char* rfc3339) { return parse_time_param(rfc3339)->time_since_epoch().count(); }

TEST(WorkingDays, FifteenWorkingDaysSkipWeekendsAndHolidays) {
  // Friday 2026-12-04, 10:00: fifteen working days are Mon 7 … Fri 25, with no holidays.
  EXPECT_EQ(format_rfc3339(SystemTime(std::chrono::milliseconds(
                due_after_working_days(at("2026-12-04T10:00:00Z"), 15, {})))),
            "2026-12-25T23:59:59.999Z");
  // With Christmas and Boxing Day (a Saturday: nothing changes for it) off: Mon 28.
  EXPECT_EQ(format_rfc3339(SystemTime(std::chrono::milliseconds(due_after_working_days(
                at("2026-12-04T10:00:00Z"), 15, {"2026-12-25", "2026-12-26"})))),
            "2026-12-28T23:59:59.999Z");
  // Filed on a Saturday: the count starts on Monday.
  EXPECT_EQ(format_rfc3339(SystemTime(std::chrono::milliseconds(
                due_after_working_days(at("2026-12-05T23:00:00Z"), 1, {})))),
            "2026-12-07T23:59:59.999Z");
  // Late on a Friday: the next working day is Monday, not the same Friday.
  EXPECT_EQ(format_rfc3339(SystemTime(std::chrono::milliseconds(
                due_after_working_days(at("2026-12-04T23:59:59Z"), 1, {})))),
            "2026-12-07T23:59:59.999Z");
}

class RequestsTest : public ::testing::Test {
 protected:
  RequestsTest()
      : db_(store::testing::open_test_database()),
        clock_(at("2026-12-04T10:00:00Z")),
        requests_(*db_, clock_, {"2026-12-25"}) {
    EXPECT_TRUE(store::migrate(*db_, store::builtin_migrations()));
    for (const char* id : {"u1", "u2"}) {
      const store::Value p[] = {std::string(id), std::string(id) + "@example.org"};
      EXPECT_TRUE(
          db_->execute("INSERT INTO users (id, email, password_hash, language, status, created_at) "
                       "VALUES ($1, $2, 'x', 'en', 'active', 0)",
                       p));
    }
  }
  std::unique_ptr<store::Database> db_;
  ManualClock clock_;
  Requests requests_;
};

TEST_F(RequestsTest, FiledAnsweredAndEachPersonSeesOnlyTheirOwn) {
  auto q = requests_.file("u1", "access", "What do you keep about me?");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, "open");
  EXPECT_EQ(format_rfc3339(SystemTime(std::chrono::milliseconds(q->due_at))),
            "2026-12-28T23:59:59.999Z");
  ASSERT_TRUE(requests_.file("u2", "question", "Where are my videos kept?"));
  EXPECT_EQ(requests_.of_user("u1").size(), 1u);
  EXPECT_EQ(requests_.of_user("u2").size(), 1u);
  EXPECT_EQ(requests_.all().size(), 2u);
  clock_.advance_ms(3'600'000);
  EXPECT_TRUE(requests_.answer(q->id, "Your account, cameras and consents; the export has all."));
  EXPECT_FALSE(requests_.answer(q->id, "again")) << "answered once";
  EXPECT_FALSE(requests_.answer("nope", "x"));
  const auto answered = requests_.of_user("u1").front();
  EXPECT_EQ(answered.status, "answered");
  EXPECT_EQ(answered.answered_at, at("2026-12-04T11:00:00Z"));
  // Open ones first for the operator, by due date.
  EXPECT_EQ(requests_.all().front().status, "open");
  requests_.forget_user("u1");
  EXPECT_TRUE(requests_.of_user("u1").empty());
  EXPECT_EQ(requests_.all().size(), 1u);
}

TEST_F(RequestsTest, BadKindsEmptyOrHugeTextsAndFloodsAreRefused) {
  EXPECT_EQ(requests_.file("u1", "refund", "x").error(), FileError::kBadKind);
  EXPECT_EQ(requests_.file("u1", "question", "").error(), FileError::kBadBody);
  EXPECT_EQ(requests_.file("u1", "question", std::string(kMaxRequestBytes + 1, 'x')).error(),
            FileError::kBadBody);
  for (int i = 0; i < kMaxOpenRequests; ++i) ASSERT_TRUE(requests_.file("u1", "question", "?"));
  EXPECT_EQ(requests_.file("u1", "question", "?").error(), FileError::kTooMany);
  EXPECT_TRUE(requests_.file("u2", "question", "?")) << "another person is not held up";
}

}  // namespace
}  // namespace nj::privacy
