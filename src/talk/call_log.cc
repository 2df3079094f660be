#include "talk/call_log.h"

#include "common/random.h"

namespace nj::talk {

using store::Value;

void CallLog::add(const CallRecord& r) {
  const Value p[] = {random_hex_id(), r.device_id, r.user_id, r.start_ms, r.duration_ms};
  (void)db_.execute(
      "INSERT INTO talk_calls (id, device_id, user_id, start_ms, duration_ms) "
      "VALUES ($1, $2, $3, $4, $5)",
      p);
}

std::vector<CallEntry> CallLog::of_device(std::string_view device_id, size_t limit) {
  const Value p[] = {std::string(device_id), static_cast<int64_t>(limit)};
  auto rows = db_.query(
      "SELECT c.id, c.device_id, c.user_id, COALESCE(u.email, ''), c.start_ms, c.duration_ms "
      "FROM talk_calls c LEFT JOIN users u ON u.id = c.user_id WHERE c.device_id = $1 "
      "ORDER BY c.start_ms DESC, c.id LIMIT $2",
      p);
  std::vector<CallEntry> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4), r.integer(5)});
  }
  return out;
}

void CallLog::forget_device(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  (void)db_.execute("DELETE FROM talk_calls WHERE device_id = $1", p);
}

void CallLog::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM talk_calls WHERE user_id = $1", p);
}

}  // namespace nj::talk
