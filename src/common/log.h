// Process-wide logging setup: spdlog to stderr, as human-readable text or as JSON lines
// (one object per record, for log shippers). Messages follow "event key=value ..." so both
// forms stay greppable.
#pragma once

#include <string>
#include <string_view>

namespace nj::log {

enum class Format { kText, kJson };

struct Options {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  Format format = Format::kText;
  // How many days the logs the server keeps itself (the embedded broker's) hold; its own
  // goes to stderr, kept as long as the service manager is told to.
  int keep_days = 14;
};

// Returns false (and leaves the defaults in place) if the level name is unknown.
bool init(const Options& options);

// Parses "text"/"json"; false if unknown.
bool parse_format(std::string_view name, Format& out);

// Escapes a string for use inside a JSON string literal (no surrounding quotes).
std::string json_escape(std::string_view in);

}  // namespace nj::log
