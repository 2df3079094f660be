// Changing a camera's settings: config.set over the broker, and what the camera answers with
// (all its settings, as it now runs) kept as its reported settings. The one way settings
// change, for the owner's PATCH and for the privacy schedule alike.
#pragma once

#include <string>

#include "device/broker_link.h"
#include "device/registry.h"
#include "device_protocol/messages.h"

namespace nj::device {

// `done` gets the camera's checked answer or why it did not answer. The registry must outlive
// the answer (it is kept by the link until it comes or times out).
void change_settings(BrokerLink& link, DeviceRegistry& registry, const std::string& serial,
                     const device_protocol::CameraSettings& change, RpcCallback done);

}  // namespace nj::device
