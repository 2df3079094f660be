// Accepting connections for a server: listening sockets on the IoPool, each accepted
// connection placed on the next loop (round-robin) and handed to the server. stop() closes
// the sockets and waits for the accept loops to end: a pending accept holds a socket of
// another loop, which must not outlive that loop.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/io_pool.h"

namespace nj::net {

class Listener {
 public:
  // Called on the socket's own loop for every accepted connection.
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket socket)>;

  Listener(IoPool& pool, std::string name, OnAccept on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds address:port (0 = a free port) and starts accepting; returns the bound port.
  Result<uint16_t, std::string> listen(const std::string& address, uint16_t port);
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace nj::net
