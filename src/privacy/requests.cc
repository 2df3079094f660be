#include "privacy/requests.h"

#include <algorithm>
#include <array>

#include "common/random.h"
#include "common/time.h"

namespace nj::privacy {
namespace {

using store::Value;

constexpr int64_t kDayMs = 86'400'000;
constexpr std::array<std::string_view, 5> kKinds = {"access", "correction", "deletion", "complaint",
                                                    "question"};

Request from_row(const store::Row& r) {
  Request q;
  q.id = r.text(0);
  q.user_id = r.text(1);
  q.kind = r.text(2);
  q.body = r.text(3);
  q.created_at = r.integer(4);
  q.due_at = r.integer(5);
  q.status = r.text(6);
  q.answer = r.text(7);
  if (!r.is_null(8)) q.answered_at = r.integer(8);
  q.email = r.text(9);
  return q;
}

constexpr std::string_view kColumns =
    "q.id, q.user_id, q.kind, q.body, q.created_at, q.due_at, q.status, q.answer, "
    "q.answered_at, COALESCE(u.email, '') FROM privacy_requests q LEFT JOIN users u ON "
    "u.id = q.user_id";

}  // namespace

bool known_request_kind(std::string_view kind) {
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

int64_t due_after_working_days(int64_t from_ms, int days, const std::set<std::string>& holidays) {
  int64_t day = from_ms >= 0 ? from_ms / kDayMs : (from_ms - kDayMs + 1) / kDayMs;
  for (int counted = 0; counted < days;) {
    ++day;
    const int64_t weekday = ((day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
    if (weekday == 0 || weekday == 6) continue;
    if (holidays.count(utc_day(day * kDayMs))) continue;
    ++counted;
  }
  return (day + 1) * kDayMs - 1;
}

Result<Request, FileError> Requests::file(std::string_view user_id, std::string_view kind,
                                          std::string_view body) {
  if (!known_request_kind(kind)) return Unexpected(FileError::kBadKind);
  if (body.empty() || body.size() > kMaxRequestBytes) return Unexpected(FileError::kBadBody);
  const Value who[] = {std::string(user_id)};
  auto open = db_.query(
      "SELECT COUNT(*) FROM privacy_requests WHERE user_id = $1 AND status = 'open'", who);
  if (!open) return Unexpected(FileError::kStore);
  if (!open->empty() && (*open)[0].integer(0) >= kMaxOpenRequests) {
    return Unexpected(FileError::kTooMany);
  }
  Request q;
  q.id = random_hex_id();
  q.user_id = std::string(user_id);
  q.kind = std::string(kind);
  q.body = std::string(body);
  q.created_at = clock_.now_ms();
  q.due_at = due_after_working_days(q.created_at, kWorkingDaysToAnswer, holidays_);
  q.status = "open";
  const Value p[] = {q.id, q.user_id, q.kind, q.body, q.created_at, q.due_at};
  if (!db_.execute("INSERT INTO privacy_requests (id, user_id, kind, body, created_at, due_at, "
                   "status) VALUES ($1, $2, $3, $4, $5, $6, 'open')",
                   p)) {
    return Unexpected(FileError::kStore);
  }
  return q;
}

std::vector<Request> Requests::of_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  std::vector<Request> out;
  auto rows = db_.query(
      "SELECT " + std::string(kColumns) + " WHERE q.user_id = $1 ORDER BY q.created_at DESC", p);
  if (rows) {
    for (const auto& r : *rows) out.push_back(from_row(r));
  }
  return out;
}

std::vector<Request> Requests::all() {
  std::vector<Request> out;
  auto rows = db_.query("SELECT " + std::string(kColumns) +
                        " ORDER BY CASE q.status WHEN 'open' THEN 0 ELSE 1 END, q.due_at");
  if (rows) {
    for (const auto& r : *rows) out.push_back(from_row(r));
  }
  return out;
}

std::optional<Request> Requests::get(std::string_view id) {
  const Value p[] = {std::string(id)};
  auto rows = db_.query("SELECT " + std::string(kColumns) + " WHERE q.id = $1", p);
  if (!rows || rows->empty()) return std::nullopt;
  return from_row((*rows)[0]);
}

bool Requests::answer(std::string_view id, std::string_view text) {
  if (text.empty() || text.size() > kMaxRequestBytes) return false;
  const Value p[] = {std::string(id), std::string(text), clock_.now_ms()};
  auto changed = db_.execute(
      "UPDATE privacy_requests SET status = 'answered', answer = $2, answered_at = $3 "
      "WHERE id = $1 AND status = 'open'",
      p);
  return changed && *changed == 1;
}

void Requests::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM privacy_requests WHERE user_id = $1", p);
}

}  // namespace nj::privacy
