// Child processes the server supervises (the embedded mosquitto, the demo's camera agents):
// started with their output appended to a log file, killed if the server dies (even by
// SIGKILL, through PR_SET_PDEATHSIG), and stopped politely, then firmly.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace nj {

class ChildProcess {
 public:
  // argv[0] is the program's path. Its stdout and stderr are appended to log.
  static Result<ChildProcess, std::string> spawn(const std::vector<std::string>& argv,
                                                 const std::filesystem::path& log);
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();  // stop()

  pid_t pid() const { return pid_; }
  // The exit status (as from waitpid) if it has ended; reaps it.
  std::optional<int> poll();
  // SIGTERM, then SIGKILL if it has not ended within grace; waits for it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// Runs a program to completion (bounded by timeout) and returns its exit code and output.
struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
Result<RunResult, std::string> run_program(const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout);

}  // namespace nj
