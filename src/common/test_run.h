// For unit tests that check their output with a command-line tool (unzip, ffprobe): runs a
// shell command and returns what it printed on standard output.
#pragma once

#include <cstdio>
#include <string>

namespace nj::testing {

inline std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace nj::testing
