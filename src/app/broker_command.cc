#include "app/broker_command.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/stop_signals.h"
#include "device/broker_link.h"
#include "mqtt/broker.h"

namespace nj::app {

namespace {
constexpr const char* kUsage =
    R"(usage: nightjar broker --dir DIR [--listen ADDRESS] [--port N]
  runs the MQTT broker that several nodes share (mosquitto with Nightjar's plugin for the
  cameras' logins, and dynamic security for the others), until SIGINT or SIGTERM; its state
  and log go in DIR, and DIR/broker.json gets the port, the admin credentials and the
  device_logins the nodes' [mqtt] sections need (new at every start)
  --listen ADDRESS  default 127.0.0.1
  --port N          default 1883; 0 picks a free one
)";
}  // namespace

int broker_command(std::span<const std::string_view> args) {
  std::filesystem::path dir;
  std::string listen = "127.0.0.1";
  long port = 1883;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--dir" && i + 1 < args.size()) {
      dir = std::string(args[++i]);
    } else if (args[i] == "--listen" && i + 1 < args.size()) {
      listen = std::string(args[++i]);
    } else if (args[i] == "--port" && i + 1 < args.size()) {
      port = std::strtol(std::string(args[++i]).c_str(), nullptr, 10);
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "nightjar broker: unknown option '%.*s'\n%s", int(args[i].size()),
                   args[i].data(), kUsage);
      return 2;
    }
  }
  if (dir.empty() || port < 0 || port > 65535) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Taken by sigwait below: blocked before the broker's supervisor thread starts.
  const sigset_t signals = block_stop_signals();

  mqtt::BrokerOptions options;
  options.dir = dir;
  options.listen = listen;
  options.port = static_cast<uint16_t>(port);
  options.admin_acls = device::server_acls();
  options.devices_plugin = mqtt::devices_plugin_beside_program();
  auto broker = mqtt::EmbeddedBroker::start(options);
  if (!broker) {
    std::fprintf(stderr, "nightjar broker: %s\n", broker.error().c_str());
    return 1;
  }
  const auto file = dir / "broker.json";
  const auto tmp = dir / "broker.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    ::chmod(tmp.c_str(), 0600);
    out << nlohmann::json{{"host", (*broker)->host()},
                          {"port", (*broker)->port()},
                          {"admin_username", (*broker)->admin_username()},
                          {"admin_password", (*broker)->admin_password()},
                          // What its servers set as [mqtt] device_logins.
                          {"device_logins", (*broker)->devices_plugin() ? "plugin" : "dynsec"}}
               .dump()
        << "\n";
    if (!out.flush()) {
      std::fprintf(stderr, "nightjar broker: cannot write %s\n", tmp.c_str());
      return 1;
    }
  }
  std::filesystem::rename(tmp, file);
  std::printf("MQTT broker listening on %s:%u (admin credentials in %s)\n",
              (*broker)->host().c_str(), unsigned((*broker)->port()), file.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  std::filesystem::remove(file);
  return 0;
}

}  // namespace nj::app
