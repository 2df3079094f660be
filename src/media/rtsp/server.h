// The RTSP server: accepts TCP connections on the IoPool's loops and runs a ServerSession
// for each, with an idle timeout, a bounded send queue and limits from the parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "media/hub/hub.h"
#include "media/rtsp/session.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::media::rtsp {

struct ServerLimits {
  std::chrono::milliseconds idle_timeout{60'000};  // no bytes from a client that is not playing
  size_t send_queue_bytes = 4 * 1024 * 1024;       // above this, media waits in the hub queue
  size_t max_connections = 10'000;
};

class Server {
 public:
  Server(net::IoPool& pool, hub::Hub& hub, Authorizer& auth, metrics::Registry& metrics,
         ServerLimits limits = {});
  ~Server();
  Result<uint16_t, std::string> listen(const std::string& address, uint16_t port);
  // Serves talk/{serial} from these lines (before listen; none: talk is not served).
  void set_talk(TalkLines* talk);
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nj::media::rtsp
