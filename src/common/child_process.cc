#include "common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace nj {
namespace {

// strerror is not thread-safe; the error category's message is.
std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

// fork + exec, so the child can ask to die with us before it becomes the program.
Result<pid_t, std::string> start(const std::vector<std::string>& argv,
                                 const std::filesystem::path& log) {
  if (argv.empty()) return Unexpected(std::string("no program"));
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) return Unexpected("cannot open " + log.string() + ": " + errno_text());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return Unexpected(std::string("fork failed: ") + errno_text());
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // Its own process group: Ctrl-C in a terminal reaches the server, which then stops its
    // children in order, instead of reaching them all at once.
    ::setpgid(0, 0);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);  // the server blocks them; the child must not
    const int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    // Nothing else of ours goes to the child: libraries (libmosquitto, say) open sockets
    // without close-on-exec, and a child holding the server's broker connection would keep
    // it alive after the server is gone.
    ::close_range(3, ~0U, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

}  // namespace

Result<ChildProcess, std::string> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                      const std::filesystem::path& log) {
  auto pid = start(argv, log);
  if (!pid) return Unexpected(pid.error());
  return ChildProcess(*pid);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() { stop(); }

std::optional<int> ChildProcess::poll() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    pid_ = -1;
    return status;
  }
  return std::nullopt;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (poll()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Result<RunResult, std::string> run_program(const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout) {
  char path[] = "/tmp/nj-run-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return Unexpected(std::string("mkstemp failed: ") + errno_text());
  ::close(fd);
  auto child = ChildProcess::spawn(argv, path);
  if (!child) {
    ::unlink(path);
    return Unexpected(child.error());
  }
  RunResult result;
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::optional<int> status;
  while (!(status = child->poll()) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!status) {
    child->stop(std::chrono::milliseconds(0));
    ::unlink(path);
    return Unexpected(argv[0] + " did not finish in time");
  }
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  ::unlink(path);
  return result;
}

}  // namespace nj
