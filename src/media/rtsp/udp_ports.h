// RTP/RTCP port pairs for RTP over UDP, shared by the RTSP server and client. Only for the
// two units that already include Asio (server.cc, client_io.cc).
#pragma once

#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <optional>

namespace nj::media::rtsp {

struct UdpPortPair {
  std::shared_ptr<boost::asio::ip::udp::socket> rtp, rtcp;
  uint16_t port = 0;  // RTP's; RTCP is on port + 1
};

// Binds an even RTP port and the odd one above it for RTCP (RFC 3550 §11) on `local`, with
// non-blocking sockets (a full send buffer drops the datagram, as UDP does).
inline std::optional<UdpPortPair> open_udp_port_pair(const boost::asio::any_io_executor& executor,
                                                     const boost::asio::ip::address& local) {
  using boost::asio::ip::udp;
  boost::system::error_code ec;
  for (int attempt = 0; attempt < 32; ++attempt) {
    UdpPortPair pair;
    pair.rtp = std::make_shared<udp::socket>(executor);
    pair.rtcp = std::make_shared<udp::socket>(executor);
    pair.rtp->open(local.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec) pair.rtp->bind(udp::endpoint(local, 0), ec);
    if (ec) return std::nullopt;
    pair.port = pair.rtp->local_endpoint(ec).port();
    if (ec || pair.port % 2 != 0 || pair.port == 65535) continue;
    pair.rtcp->open(local.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec) pair.rtcp->bind(udp::endpoint(local, static_cast<uint16_t>(pair.port + 1)), ec);
    if (ec) continue;
    pair.rtp->non_blocking(true, ec);
    pair.rtcp->non_blocking(true, ec);
    return pair;
  }
  return std::nullopt;
}

}  // namespace nj::media::rtsp
