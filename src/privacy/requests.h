// Privacy requests (policy item 37, "we will respond to your request within 15 working
// days"): filed by the person in the app, answered by the operator, each with the date it is
// due — the end of the 15th working day after it came, weekends and the operator's holidays
// (a configurable calendar of UTC dates) not counted. The operator sees the overdue ones
// flagged; the person sees the status and the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "store/database.h"

namespace nj::privacy {

inline constexpr int kWorkingDaysToAnswer = 15;
inline constexpr size_t kMaxRequestBytes = 4000;
inline constexpr int kMaxOpenRequests = 10;  // per person

bool known_request_kind(std::string_view kind);

// The end (23:59:59.999 UTC) of the `days`-th working day after the day of `from_ms`:
// Saturdays, Sundays and the dates in `holidays` ("YYYY-MM-DD", UTC) are not working days.
int64_t due_after_working_days(int64_t from_ms, int days, const std::set<std::string>& holidays);

struct Request {
  std::string id, user_id, email, kind, body, status, answer;
  int64_t created_at = 0, due_at = 0;
  std::optional<int64_t> answered_at;
};

enum class FileError { kBadKind, kBadBody, kTooMany, kStore };

class Requests {
 public:
  Requests(store::Database& db, const Clock& clock, std::set<std::string> holidays)
      : db_(db), clock_(clock), holidays_(std::move(holidays)) {}
  // A new open request; its due date counted from now.
  Result<Request, FileError> file(std::string_view user_id, std::string_view kind,
                                  std::string_view body);
  // The person's, newest first.
  std::vector<Request> of_user(std::string_view user_id);
  // For the operator: every request (open ones first, by due date), with the address.
  std::vector<Request> all();
  // The operator's answer; false if there is no open request with that id.
  bool answer(std::string_view id, std::string_view text);
  std::optional<Request> get(std::string_view id);
  // The account is cancelled: its requests go.
  void forget_user(std::string_view user_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  std::set<std::string> holidays_;
};

}  // namespace nj::privacy
