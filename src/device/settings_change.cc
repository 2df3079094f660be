#include "device/settings_change.h"

#include <chrono>

namespace nj::device {

void change_settings(BrokerLink& link, DeviceRegistry& registry, const std::string& serial,
                     const device_protocol::CameraSettings& change, RpcCallback done) {
  link.call(serial, "config.set", device_protocol::to_json(change), std::chrono::seconds(8),
            [&registry, serial, done = std::move(done)](RpcResult result) {
              if (result) {
                // Already checked by read_rpc_result; read as settings once more, not by hand.
                device_protocol::ObjectReader answer(*result);
                if (const nlohmann::json* said = answer.field("settings")) {
                  if (auto settings = device_protocol::read_settings(*said)) {
                    registry.set_settings(serial, *settings);
                  }
                }
              }
              done(std::move(result));
            });
}

}  // namespace nj::device
