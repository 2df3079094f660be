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
  size_t max_connections_per_address = 256;  // open at once from one client address (0: any)
  size_t websocket_message_limit = size_t{64} * 1024;
  size_t websocket_send_queue_limit = size_t{8} * 1024 * 1024;  // bytes queued per peer
  // A WebSocket message (every frame of it) must arrive whole within this once it began: a
  // client that sends a frame a byte at a time is cut off, as a slow header is.
  std::chrono::milliseconds websocket_message_timeout{10'000};
  // WebSockets that need no sign-in or token (the health feed): in all, and per address.
  size_t max_anonymous_websockets = 1'000;
  size_t max_anonymous_websockets_per_address = 8;
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
