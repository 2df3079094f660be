#include "mail/mail.h"

#include "common/random.h"

namespace nj::mail {
namespace {

std::vector<OutboxEntry> to_entries(const store::Rows& rows) {
  std::vector<OutboxEntry> out;
  for (const auto& r : rows) {
    out.push_back(OutboxEntry{r.text(0), Mail{r.text(1), r.text(2), r.text(3)}, r.integer(4),
                              r.text(5), static_cast<int>(r.integer(6)), r.text(7)});
  }
  return out;
}

constexpr const char* kColumns =
    "id, to_addr, subject, body, created_at, status, attempts, last_error";

}  // namespace

store::StoreResult<std::string> Outbox::enqueue(const Mail& mail) {
  const auto id = random_hex_id();
  const store::Value params[] = {
      id,        mail.to,         mail.subject,
      mail.body, clock_.now_ms(), std::string(deliver_ ? "queued" : "kept")};
  auto r = db_.execute(
      "INSERT INTO outbox (id, to_addr, subject, body, created_at, status) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      params);
  if (!r) return Unexpected(std::move(r).error());
  return id;
}

store::StoreResult<std::vector<OutboxEntry>> Outbox::list(size_t limit) {
  const store::Value params[] = {static_cast<int64_t>(limit)};
  auto rows = db_.query(
      std::string("SELECT ") + kColumns + " FROM outbox ORDER BY created_at, id LIMIT $1", params);
  if (!rows) return Unexpected(std::move(rows).error());
  return to_entries(*rows);
}

store::StoreResult<std::vector<OutboxEntry>> Outbox::due(size_t limit) {
  const store::Value params[] = {static_cast<int64_t>(limit)};
  auto rows = db_.query(std::string("SELECT ") + kColumns +
                            " FROM outbox WHERE status = 'queued' ORDER BY created_at LIMIT $1",
                        params);
  if (!rows) return Unexpected(std::move(rows).error());
  return to_entries(*rows);
}

store::StoreResult<void> Outbox::mark(const std::string& id, bool sent, const std::string& error) {
  // Up to 5 attempts; then the message is marked failed and stays for the operator to see.
  const store::Value params[] = {id, sent ? int64_t{1} : int64_t{0}, error, clock_.now_ms()};
  auto r = db_.execute(
      "UPDATE outbox SET attempts = attempts + 1, last_error = $3, "
      "sent_at = CASE WHEN $2 = 1 THEN $4 ELSE sent_at END, "
      "status = CASE WHEN $2 = 1 THEN 'sent' WHEN attempts + 1 >= 5 THEN 'failed' "
      "ELSE 'queued' END WHERE id = $1",
      params);
  if (!r) return Unexpected(std::move(r).error());
  return {};
}

store::StoreResult<int64_t> Outbox::forget_address(const std::string& to) {
  const store::Value params[] = {to};
  return db_.execute("DELETE FROM outbox WHERE to_addr = $1", params);
}

}  // namespace nj::mail
