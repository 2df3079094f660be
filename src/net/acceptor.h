// Opening a listening socket on a loop: the part every server (HTTP, RTSP, …) shares.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "common/result.h"

namespace nj::net {

// Binds address:port (0 = any free port) with SO_REUSEADDR and listens. Errors say which
// address failed and why.
Result<std::shared_ptr<boost::asio::ip::tcp::acceptor>, std::string> open_acceptor(
    boost::asio::io_context& loop, const std::string& address, uint16_t port);

}  // namespace nj::net
