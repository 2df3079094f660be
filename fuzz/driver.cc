// A small mutation fuzzer for targets written against libFuzzer's entry point, so they run
// in every build (GCC included): replays the seed corpus, then mutates it (bit flips, byte
// edits, truncation, splicing) for the given time with a fixed seed. A crash leaves the
// input in ./fuzz-crash-<target> for replay: `fuzz_x fuzz-crash-x`.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> g_current;  // the input being run, for the crash handler
char g_crash_path[256] = "fuzz-crash";

void on_crash(int sig) {
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, g_current.data(), g_current.size());
    ::close(fd);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void run(const std::vector<uint8_t>& input) {
  g_current = input;
  LLVMFuzzerTestOneInput(g_current.data(), g_current.size());
}

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  const auto text = s.str();
  return {text.begin(), text.end()};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  std::snprintf(g_crash_path, sizeof g_crash_path, "fuzz-crash-%s",
                std::filesystem::path(argv[0]).filename().c_str());
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_crash);

  std::vector<std::vector<uint8_t>> corpus;
  for (const auto& p : inputs) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) corpus.push_back(read_file(e.path()));
      }
    } else {
      corpus.push_back(read_file(p));
    }
  }
  corpus.emplace_back();  // the empty input
  for (const auto& c : corpus) run(c);

  std::mt19937_64 rng(0x6e6a);  // fixed: a failure reproduces run after run
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = corpus.size();
  static const char* kTokens[] = {
      "%",    "%0",       "%zz",  "..",   "/", "?", "&", "=", "{", "}", "[", "]",
      "\"",   "\\",       "\r\n", "\n",   ":", "T", "Z", "+", "-", ".", "0", "99999999999999999999",
      "\xff", "\xc3\xa9", "#",    "[[a]]"};
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch) {
      auto input = corpus[pick(corpus.size())];
      const int edits = 1 + static_cast<int>(pick(8));
      for (int e = 0; e < edits; ++e) {
        switch (pick(6)) {
          case 0:  // flip a bit
            if (!input.empty()) input[pick(input.size())] ^= static_cast<uint8_t>(1u << pick(8));
            break;
          case 1:  // set a random byte
            if (!input.empty()) input[pick(input.size())] = static_cast<uint8_t>(pick(256));
            break;
          case 2: {  // insert a token
            const std::string t = kTokens[pick(std::size(kTokens))];
            input.insert(input.begin() + static_cast<long>(pick(input.size() + 1)), t.begin(),
                         t.end());
            break;
          }
          case 3:  // truncate
            if (!input.empty()) input.resize(pick(input.size()));
            break;
          case 4: {  // splice with another corpus entry
            const auto& other = corpus[pick(corpus.size())];
            if (!other.empty()) {
              const size_t from = pick(other.size());
              input.insert(input.begin() + static_cast<long>(pick(input.size() + 1)),
                           other.begin() + static_cast<long>(from), other.end());
            }
            break;
          }
          case 5:  // duplicate a range (deep nesting, long repeats)
            if (!input.empty() && input.size() < 100000) {
              const size_t a = pick(input.size());
              const size_t len = 1 + pick(std::min<size_t>(input.size() - a, 64));
              std::vector<uint8_t> chunk(input.begin() + static_cast<long>(a),
                                         input.begin() + static_cast<long>(a + len));
              for (size_t k = pick(64); k > 0; --k) {
                input.insert(input.begin() + static_cast<long>(a), chunk.begin(), chunk.end());
              }
            }
            break;
        }
      }
      run(input);
      ++runs;
    }
  }
  std::printf("fuzz: %llu runs, %zu seeds, no crash\n", static_cast<unsigned long long>(runs),
              corpus.size() - 1);
  return 0;
}
