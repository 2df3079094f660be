// The privacy policy people accept at registration: Nightjar's own (English and Chinese,
// compiled in) unless the operator supplies a directory with their own.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/result.h"

namespace nj::account {

struct PolicyText {
  std::string version;
  std::map<std::string, std::string> text;  // language → Markdown

  // The text in language, else English.
  const std::string& in(const std::string& language) const;
};

PolicyText builtin_policy();

// DIR/version (one line), DIR/en.md and optionally DIR/zh-CN.md.
Result<PolicyText, std::string> load_policy(const std::filesystem::path& dir);

}  // namespace nj::account
