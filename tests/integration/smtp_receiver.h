// A small real SMTP server on 127.0.0.1:0 for tests: accepts every message and keeps it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/loopback_server.h"

namespace nj::testing {

struct ReceivedMail {
  std::string from;
  std::vector<std::string> to;
  std::string data;  // headers and body as received (dot-unstuffed)
  std::string subject() const;
  // The first "token=…" in a link with this path, e.g. "/verify".
  std::string token(const std::string& path) const;
};

class SmtpReceiver {
 public:
  uint16_t port() const { return server_.port(); }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
  // Waits for the n-th (1-based) message to `to`.
  std::optional<ReceivedMail> wait_for(
      const std::string& to, size_t nth = 1,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  size_t count_to(const std::string& to);

 private:
  void session(int fd);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReceivedMail> mails_;
  LoopbackServer server_{[this](int fd) { session(fd); }};  // last: stops first
};

}  // namespace nj::testing
