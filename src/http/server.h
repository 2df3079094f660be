// The HTTP/1.1 + WebSocket server: Boost.Beast with C++20 coroutines on the IoPool's loops.
// It enforces the limits below, answers protocol errors in the API's error shape, counts
// every request per route in the metrics registry, and hands requests to the Router.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/router.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::http {

struct ServerLimits {
  size_t header_limit = size_t{16} * 1024;            // request line + headers → 431 beyond
  size_t body_limit = size_t{1024} * 1024;            // → 413 beyond
  std::chrono::milliseconds idle_timeout{30'000};     // waiting for (all of) the next header
  std::chrono::milliseconds request_timeout{30'000};  // reading a body, writing a response
  size_t max_connections = 10'000;
  size_t websocket_message_limit = size_t{64} * 1024;
  size_t websocket_send_queue_limit = size_t{8} * 1024 * 1024;  // bytes queued per peer
};

class Server {
 public:
  Server(net::IoPool& pool, const Router& router, metrics::Registry& metrics, ServerLimits limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; port 0 picks a free port. Returns the bound port.
  Result<uint16_t, std::string> listen(const std::string& address, uint16_t port);
  // Stops accepting; open connections end when the pool shuts down.
  void stop();
  size_t open_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nj::http
