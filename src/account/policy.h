// The privacy policy people accept at registration: Nightjar's own (English and Chinese,
// compiled in) unless the operator supplies a directory with their own.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"

namespace nj::account {

struct PolicyText {
  std::string version;
  std::map<std::string, std::string> text;  // language → Markdown
  bool major = false;   // a major change: everyone is told by e-mail (DIR/major exists)
  std::string changes;  // what changed from the last version (DIR/changes.md), Markdown

  // The text in language, else English.
  const std::string& in(const std::string& language) const;
};

PolicyText builtin_policy();

// DIR/version (one line), DIR/en.md and optionally DIR/zh-CN.md; DIR/major (any content)
// marks a major change, DIR/changes.md says what changed.
Result<PolicyText, std::string> load_policy(const std::filesystem::path& dir);

struct PolicyVersion {
  std::string version;
  int64_t installed_at = 0;
  bool major = false;
  std::string changes;
};

// The versions the server has run with, and who accepted which (policy_versions,
// policy_acceptances).
class PolicyLedger {
 public:
  PolicyLedger(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Records the running version if it is new. True if it is a major change over an earlier
  // version (so people must be told by e-mail); false otherwise, or if already recorded.
  bool install(const PolicyText& policy);
  // Newest first.
  std::vector<PolicyVersion> history();
  // The newest version the person accepted (by acceptance time), if any.
  std::optional<std::string> accepted(std::string_view user_id);
  // Records the person's acceptance of `version` now.
  bool accept(std::string_view user_id, std::string_view version);
  // Every active, verified address (whom a major change is told to).
  std::vector<std::string> addresses();

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace nj::account
