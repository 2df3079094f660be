// A small server on 127.0.0.1 and a free port for tests (the SMTP and HTTP receivers):
// accepts connections one at a time on its own thread and hands each to `session`, which
// reads and answers on the socket; the socket is closed after it.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace nj::testing {

class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> session);
  ~LoopbackServer();  // stops accepting and waits for the session under way
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  void serve();
  std::function<void(int fd)> session_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nj::testing
