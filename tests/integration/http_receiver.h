// A small real HTTP server on 127.0.0.1:0 for tests (a webhook receiver): keeps every
// request and answers each with the next scripted status (200 when none is left).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/loopback_server.h"

namespace nj::testing {

struct ReceivedRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpReceiver {
 public:
  uint16_t port() const { return server_.port(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  void answer_next(std::vector<int> statuses);
  // Waits for the n-th (1-based) request.
  std::optional<ReceivedRequest> wait_for(size_t nth, std::chrono::milliseconds timeout);
  size_t count();

 private:
  void session(int fd);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> statuses_;
  std::vector<ReceivedRequest> requests_;
  LoopbackServer server_{[this](int fd) { session(fd); }};  // last: stops first
};

}  // namespace nj::testing
