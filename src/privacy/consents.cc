#include "privacy/consents.h"

#include <algorithm>
#include <array>

#include "common/random.h"

namespace nj::privacy {
namespace {

using store::Value;

constexpr std::array<std::string_view, 6> kPurposes = {
    kNotifyInApp, kNotifyPush, kNotifyEmail, kNotifyWebhook, kNotifyMqtt, kAdsPersonalised};

Consent from_row(const store::Row& r) {
  return {r.text(0), r.integer(1) != 0, r.integer(2), r.text(3), r.text(4)};
}

}  // namespace

bool known_purpose(std::string_view purpose) {
  return std::find(kPurposes.begin(), kPurposes.end(), purpose) != kPurposes.end();
}

std::vector<std::string_view> purposes() { return {kPurposes.begin(), kPurposes.end()}; }

bool grantable(std::string_view purpose) {
  return known_purpose(purpose) && purpose != kAdsPersonalised;
}

bool ConsentLedger::record(std::string_view user_id, std::string_view purpose, bool granted,
                           std::string_view policy_version, std::string_view method) {
  if (!known_purpose(purpose) || (granted && !grantable(purpose))) return false;
  const Value p[] = {random_hex_id(),          std::string(user_id), std::string(purpose),
                     int64_t{granted ? 1 : 0}, clock_.now_ms(),      std::string(policy_version),
                     std::string(method)};
  // In the order written, also within one millisecond: the next number of the person's rows.
  auto r = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    auto done = tx.execute(
        "INSERT INTO consents (id, user_id, purpose, granted, at_ms, policy_version, method, seq) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(MAX(seq), 0) + 1 FROM consents "
        "WHERE user_id = $2))",
        p);
    if (!done) return Unexpected(done.error());
    return {};
  });
  if (!r) return false;
  const std::string user(user_id);
  for (const auto& listener : listeners_) listener(user, purpose, granted);
  return true;
}

bool ConsentLedger::granted(std::string_view user_id, std::string_view purpose) {
  const Value p[] = {std::string(user_id), std::string(purpose)};
  auto rows = db_.query(
      "SELECT granted FROM consents WHERE user_id = $1 AND purpose = $2 "
      "ORDER BY seq DESC LIMIT 1",
      p);
  return rows && !rows->empty() && rows->front().integer(0) != 0;
}

std::map<std::string, Consent> ConsentLedger::current(std::string_view user_id) {
  std::map<std::string, Consent> out;
  for (auto& c : history(user_id)) out[c.purpose] = std::move(c);  // later rows win
  return out;
}

std::vector<Consent> ConsentLedger::history(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT purpose, granted, at_ms, policy_version, method FROM consents WHERE user_id = $1 "
      "ORDER BY seq",
      p);
  std::vector<Consent> out;
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

}  // namespace nj::privacy
