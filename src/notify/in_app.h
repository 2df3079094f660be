// The in-app channel: notifications to the person's open app tabs, at once, over the
// WebSocket each tab keeps open (GET /api/v1/notifications). Transport-free: a connection is
// a function that sends one JSON text and says whether it could (false: gone or its session
// ended, and it is dropped).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "notify/engine.h"

namespace nj::notify {

class InAppChannel final : public Channel {
 public:
  using Send = std::function<bool(const std::string& json)>;
  // Told of each delivery's latency (decided → handed to the connection), in µs.
  using Latency = std::function<void(int64_t us)>;

  std::string_view purpose() const override { return privacy::kNotifyInApp; }
  void deliver(const Notification& n) override;

  uint64_t connect(const std::string& user_id, Send send);
  void disconnect(uint64_t id);
  size_t connections() const;
  void set_latency(Latency latency) { latency_ = std::move(latency); }

  // The JSON a tab receives: notification_json's fields (text.h), "type":"event" and
  // "snapshot" (the picture's path, fetched with the tab's session).
  static std::string message(const Notification& n);

 private:
  struct Connection {
    std::string user_id;
    Send send;
  };
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Connection> connections_;
  Latency latency_;
};

}  // namespace nj::notify
