// `nightjar broker --dir DIR`: the MQTT broker several nodes share (issue #17), run on its own.
// The same mosquitto, dynamic-security plugin and server ACLs as the embedded broker; the
// admin credentials the nodes need (their [mqtt] admin_username and admin_password) are
// written to DIR/broker.json, mode 0600, fresh at every start.
#pragma once

#include <span>
#include <string_view>

namespace nj::app {

int broker_command(std::span<const std::string_view> args);

}  // namespace nj::app
