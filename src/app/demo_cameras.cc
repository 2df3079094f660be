#include "app/demo_cameras.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace nj::app {
namespace {

std::filesystem::path own_directory() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::filesystem::path(std::string(buf, static_cast<size_t>(n))).parent_path();
}

struct DemoCamera {
  const char* serial;
  const char* name;
  const char* size;
  const char* motion_every;  // an intruder walks past every N s ("" never), for the alarms
};
constexpr DemoCamera kCameras[] = {{"DEMO-CAM-1", "Front door", "640x360", ""},
                                   {"DEMO-CAM-2", "Garden", "640x360", "30"}};

}  // namespace

std::unique_ptr<DemoCameras> DemoCameras::start(store::Database& db,
                                                device::DeviceRegistry& registry,
                                                device::DeviceService& devices,
                                                const Options& options) {
  auto out = std::unique_ptr<DemoCameras>(new DemoCameras());
  const auto agent = own_directory() / "nightjar-cam";
  if (!std::filesystem::exists(agent)) {
    spdlog::warn("demo.cameras.skipped reason=\"{} is missing\"", agent.string());
    return out;
  }
  const store::Value p[] = {options.demo_email};
  auto rows = db.query("SELECT id FROM users WHERE email = $1 AND status = 'active'", p);
  if (!rows || rows->empty()) {
    spdlog::warn("demo.cameras.skipped reason=\"no demo account\"");
    return out;
  }
  const std::string demo_user = rows->front().text(0);
  for (const auto& cam : kCameras) {
    auto device = registry.by_serial(cam.serial);
    std::string secret;
    if (!device) {
      auto added = registry.add({cam.serial, "NJ-Sim", "", "", "", "", "audio"});
      if (!added) {
        spdlog::warn("demo.camera.failed serial={} reason=\"{}\"", cam.serial,
                     added.error().message);
        continue;
      }
      secret = added->secret;
      device = added->device;
    } else {
      secret = registry.current_secret(*device);
    }
    std::vector<std::string> argv = {
        agent.string(), "--serial", cam.serial,         "--simulate", "--size",
        cam.size,       "--server", options.server_url, "--mqtt",     options.mqtt_url};
    if (*cam.motion_every) {
      argv.insert(argv.end(), {"--motion-every", cam.motion_every, "--motion-for", "3"});
    }
    if (!device->owner_id) {
      // Bound the way a camera is: with a bind token of the demo account.
      registry.set_name(cam.serial, cam.name);
      auto token = devices.create_bind_token(demo_user);
      if (!token) continue;
      if (options.mqtts_url.empty()) {
        // A shared broker without TLS (several nodes): the camera would not give its secret
        // to it from a QR payload, so its claim is made here, with the same token.
        if (auto claimed = devices.claim(cam.serial, token->token); !claimed) {
          spdlog::warn("demo.camera.failed serial={} reason=\"{}\"", cam.serial,
                       claimed.error().message);
          continue;
        }
        registry.set_name(cam.serial, cam.name);
      } else {
        argv.push_back("--provision");
        argv.push_back(nlohmann::json{{"v", 1},
                                      {"server", options.server_url},
                                      {"mqtt", options.mqtt_url},
                                      {"token", token->token},
                                      {"mqtts", options.mqtts_url},
                                      {"broker_cert", options.broker_cert}}
                           .dump());
      }
    } else if (*device->owner_id != demo_user) {
      continue;  // someone took it over: leave it alone
    }
    const auto dir = options.data_dir / "demo-cams" / cam.serial;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    {
      std::ofstream(dir / "secret", std::ios::trunc) << secret << "\n";
      std::filesystem::permissions(
          dir / "secret", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
          std::filesystem::perm_options::replace, ec);
    }
    argv.insert(argv.begin() + 3, {"--secret-file", (dir / "secret").string()});
    // A small SD card, recording in 10-second files, so that the card page has something.
    argv.insert(argv.end(), {"--sd-dir", (dir / "sd").string(), "--sd-size-mb", "64",
                             "--sd-segment-seconds", "10"});
    auto child = ChildProcess::spawn(argv, dir / "log");
    if (!child) {
      spdlog::warn("demo.camera.failed serial={} reason=\"{}\"", cam.serial, child.error());
      continue;
    }
    spdlog::info("demo.camera.started serial={} pid={}", cam.serial, child->pid());
    out->children_.push_back(std::move(*child));
  }
  return out;
}

}  // namespace nj::app
