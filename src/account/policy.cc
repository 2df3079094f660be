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
      {{"en", std::string(policy_en_text())}, {"zh-CN", std::string(policy_zh_cn_text())}}};
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
  PolicyText p{*version, {{"en", *en}}};
  if (auto zh = read_file(dir / "zh-CN.md")) p.text["zh-CN"] = *zh;
  return p;
}

}  // namespace nj::account
