// nightjar: the camera cloud server and its operator commands.
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <vector>

#include "app/admin.h"
#include "app/broker_command.h"
#include "app/config.h"
#include "app/serve.h"

namespace {

constexpr const char* kUsage = R"(usage: nightjar COMMAND [options]
commands:
  serve     run the server (nightjar serve --help)
  admin     operator tasks on a data directory (nightjar admin --help)
  broker    run the MQTT broker several nodes share (nightjar broker --help)
  version   print the version
)";

// A crash leaves its stack in the log (stderr), symbolised as far as the binary allows
// (addr2line -e nightjar ADDRESS gives the rest), then dies of the same signal.
void on_fatal_signal(int signo) {
  const char header[] = "\nnightjar: fatal signal; the stack:\n";
  (void)!::write(STDERR_FILENO, header, sizeof header - 1);
  void* frames[64];
  ::backtrace_symbols_fd(frames, ::backtrace(frames, 64), STDERR_FILENO);
  ::signal(signo, SIG_DFL);
  ::raise(signo);
}

void report_crashes() {
  void* warm[1];
  ::backtrace(warm, 1);  // loads libgcc now: not inside the handler
  for (int signo : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(signo, on_fatal_signal);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const auto command = args[0];
  const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  if (command == "version" || command == "--version") {
    std::printf("nightjar %s\n", NJ_VERSION);
    return 0;
  }
  if (command == "serve") {
    for (auto a : rest) {
      if (a == "--help" || a == "-h") {
        std::fputs(nj::app::serve_usage().c_str(), stdout);
        return 0;
      }
    }
    auto config = nj::app::parse_serve_args(rest);
    if (!config) {
      std::fprintf(stderr, "nightjar serve: %s\n%s", config.error().c_str(),
                   nj::app::serve_usage().c_str());
      return 2;
    }
    report_crashes();
    return nj::app::serve(*config);
  }
  if (command == "admin") return nj::app::admin(rest);
  if (command == "broker") return nj::app::broker_command(rest);
  std::fprintf(stderr, "nightjar: unknown command '%.*s'\n%s", int(command.size()), command.data(),
               kUsage);
  return 2;
}
