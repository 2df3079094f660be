#include "account/policy.h"

#include <fstream>
#include <optional>
#include <sstream>

namespace nj::account {

std::string_view policy_en_text();     // generated from policy/en.md
std::string_view policy_zh_cn_text();  // generated from policy/zh-CN.md

namespace {
constexpr const char* kBuiltinVersion = "2026-11-29";

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

const std::string& PolicyText::in(const std::string& language) const {
  const auto it = text.find(language);
  return it != text.end() ? it->second : text.at("en");
}

PolicyText builtin_policy() {
  return PolicyText{
      kBuiltinVersion,
      {{"en", std::string(policy_en_text())}, {"zh-CN", std::string(policy_zh_cn_text())}},
      false,
      ""};
}

Result<PolicyText, std::string> load_policy(const std::filesystem::path& dir) {
  auto version = read_file(dir / "version");
  auto en = read_file(dir / "en.md");
  if (!version || !en) {
    return Unexpected("policy directory " + dir.string() + " needs 'version' and 'en.md'");
  }
  while (!version->empty() && (version->back() == '\n' || version->back() == '\r')) {
    version->pop_back();
  }
  if (version->empty() || version->size() > 64) {
    return Unexpected(std::string("policy version must be 1–64 characters"));
  }
  PolicyText p{*version, {{"en", *en}}, false, ""};
  if (auto zh = read_file(dir / "zh-CN.md")) p.text["zh-CN"] = *zh;
  p.major = std::filesystem::exists(dir / "major");
  if (auto changes = read_file(dir / "changes.md")) p.changes = *changes;
  return p;
}

bool PolicyLedger::install(const PolicyText& policy) {
  using store::Value;
  auto known = db_.query("SELECT version FROM policy_versions");
  if (!known) return false;
  for (const auto& r : *known) {
    if (r.text(0) == policy.version) return false;
  }
  const Value p[] = {policy.version, clock_.now_ms(), int64_t{policy.major ? 1 : 0},
                     policy.changes};
  if (!db_.execute("INSERT INTO policy_versions (version, installed_at, major, changes) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                   p)) {
    return false;
  }
  // Told by e-mail only when it changes something people already agreed to.
  return policy.major && !known->empty();
}

std::vector<PolicyVersion> PolicyLedger::history() {
  std::vector<PolicyVersion> out;
  auto rows = db_.query(
      "SELECT version, installed_at, major, changes FROM policy_versions "
      "ORDER BY installed_at DESC, version DESC");
  if (!rows) return out;
  for (const auto& r : *rows)
    out.push_back({r.text(0), r.integer(1), r.integer(2) != 0, r.text(3)});
  return out;
}

std::optional<std::string> PolicyLedger::accepted(std::string_view user_id) {
  const store::Value p[] = {std::string(user_id)};
  auto rows = db_.query(
      "SELECT policy_version FROM policy_acceptances WHERE user_id = $1 "
      "ORDER BY accepted_at DESC LIMIT 1",
      p);
  if (!rows || rows->empty()) return std::nullopt;
  return (*rows)[0].text(0);
}

bool PolicyLedger::accept(std::string_view user_id, std::string_view version) {
  const store::Value p[] = {std::string(user_id), std::string(version), clock_.now_ms()};
  return static_cast<bool>(db_.execute(
      "INSERT INTO policy_acceptances (user_id, policy_version, accepted_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (user_id, policy_version) DO UPDATE SET accepted_at = excluded.accepted_at",
      p));
}

std::vector<std::string> PolicyLedger::addresses() {
  std::vector<std::string> out;
  auto rows = db_.query(
      "SELECT email FROM users WHERE status = 'active' AND email_verified_at IS NOT NULL "
      "ORDER BY email");
  if (!rows) return out;
  for (const auto& r : *rows) out.push_back(r.text(0));
  return out;
}

}  // namespace nj::account
