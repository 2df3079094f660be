#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace nj::cam {

std::string usage() {
  return R"(usage: nightjar-cam --server URL --serial S --secret-file F
                    [--simulate [--size WxH] [--fps N] [--bitrate-kbps N] [--gop-seconds N]
                                [--motion-every N [--motion-for N]] [--intruder box|person]
                                [--still] [--no-detector] [--sync-marks]
                     | --source rtsp://…]
                    [--mqtt mqtt://host:port | mqtts://host:port --broker-cert F]
                    [--state-dir DIR] [--sd-dir DIR] [--speaker FILE]
                    [--provision PAYLOAD | --softap HOST:PORT --pairing-code CODE]
  --mqtt       the broker, when the server should not be asked (GET /api/v1/device-endpoints);
               mqtts://… with --broker-cert FILE (the certificate to trust, and only it)
  --state-dir  where settings are kept (default: the secret file's directory)
  --telemetry-seconds  how often to report the bytes sent (default 30)
  --backlog-seconds N  while no server takes the stream, keep up to N s of it (default 20;
               0: none) and send it to the next server that asks, so that a lost server
               costs the cloud recording at most the GOP it had in flight
  --provision  a QR payload (from the app): which cloud, and the token that binds the camera
  --softap     wait for the app to post that payload to http://HOST:PORT/provision, as a
               camera does while the phone is on its hotspot (skipped once provisioned);
               the app proves it knows --pairing-code, the code on the camera's label
  --motion-every N [--motion-for N]
               the simulated scene has an intruder for N s (default 3) of every N s, and
               the camera reports motion on its `event` topic meanwhile
  --intruder   what walks in: a white box (default) or a person's figure (which the
               server's people detector finds)
  --still      nothing moves in the scene but the intruder (a yard at rest)
  --sync-marks a white square at the bottom right while the tone beeps (the first 200 ms
               of every second): sound and picture can be checked to be in sync
  --no-detector  the camera reports no motion itself (as a camera that cannot detect;
               the server's detection can then watch it)
  --sd-dir DIR [--sd-size-mb N] [--sd-segment-seconds N]
               record the camera's stream there, as an SD card would (a ring of N MB)
  --speaker FILE  the camera's speaker: what is said through the app (two-way talk) is
               played into this WAV file (8 kHz µ-law), rewritten for each call
)";
}

Result<Options, std::string> parse_options(std::span<const std::string_view> args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto flag = args[i];
    if (flag == "--simulate") {
      o.simulate = true;
      continue;
    }
    if (flag == "--no-detector") {
      o.no_detector = true;
      continue;
    }
    if (flag == "--still") {
      o.still = true;
      continue;
    }
    if (flag == "--sync-marks") {
      o.sync_marks = true;
      continue;
    }
    if (i + 1 >= args.size()) return Unexpected(std::string(flag) + " needs a value");
    const std::string value(args[++i]);
    if (flag == "--server") {
      o.server = value;
    } else if (flag == "--serial") {
      o.serial = value;
    } else if (flag == "--secret-file") {
      o.secret_file = value;
    } else if (flag == "--source") {
      o.source = value;
    } else if (flag == "--sd-dir") {
      o.sd_dir = value;
    } else if (flag == "--speaker") {
      o.speaker = value;
    } else if (flag == "--provision") {
      o.provision = value;
    } else if (flag == "--softap") {
      o.softap = value;
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
        return Unexpected(std::string("--softap is HOST:PORT"));
      }
    } else if (flag == "--pairing-code") {
      o.pairing_code = value;
    } else if (flag == "--broker-cert") {
      o.broker_cert = value;
    } else if (flag == "--mqtt") {
      o.mqtt = value;
      if (!value.starts_with("mqtt://") && !value.starts_with("mqtts://")) {
        return Unexpected(std::string("--mqtt must be mqtt:// or mqtts://"));
      }
    } else if (flag == "--sd-size-mb") {
      o.sd_size_mb = std::atoi(value.c_str());
      if (o.sd_size_mb < 1 || o.sd_size_mb > 1'000'000) {
        return Unexpected(std::string("--sd-size-mb is 1 to 1000000"));
      }
    } else if (flag == "--sd-segment-seconds") {
      o.sd_segment_seconds = std::atoi(value.c_str());
      if (o.sd_segment_seconds < 1 || o.sd_segment_seconds > 3600) {
        return Unexpected(std::string("--sd-segment-seconds is 1 to 3600"));
      }
    } else if (flag == "--telemetry-seconds") {
      o.telemetry_seconds = std::atoi(value.c_str());
      if (o.telemetry_seconds < 1 || o.telemetry_seconds > 3600) {
        return Unexpected(std::string("--telemetry-seconds is 1 to 3600"));
      }
    } else if (flag == "--state-dir") {
      o.state_dir = value;
    } else if (flag == "--size") {
      if (std::sscanf(value.c_str(), "%dx%d", &o.width, &o.height) != 2 || o.width < 64 ||
          o.height < 64 || o.width > 3840 || o.height > 2160 || o.width % 2 || o.height % 2) {
        return Unexpected(std::string("--size is WxH, even, 64x64 to 3840x2160"));
      }
    } else if (flag == "--backlog-seconds") {
      o.backlog_seconds = std::atoi(value.c_str());
      if (value.empty() || o.backlog_seconds < 0 || o.backlog_seconds > 300) {
        return Unexpected(std::string("--backlog-seconds is 0 to 300"));
      }
    } else if (flag == "--gop-seconds") {
      o.gop_seconds = std::atoi(value.c_str());
      if (o.gop_seconds < 1 || o.gop_seconds > 10) {
        return Unexpected(std::string("--gop-seconds is 1 to 10"));
      }
    } else if (flag == "--motion-every") {
      o.motion_every = std::atoi(value.c_str());
      if (o.motion_every < 1 || o.motion_every > 86'400) {
        return Unexpected(std::string("--motion-every is 1 to 86400 seconds"));
      }
    } else if (flag == "--motion-for") {
      o.motion_for = std::atoi(value.c_str());
      if (o.motion_for < 1 || o.motion_for > 3600) {
        return Unexpected(std::string("--motion-for is 1 to 3600 seconds"));
      }
    } else if (flag == "--intruder") {
      if (value != "box" && value != "person") {
        return Unexpected(std::string("--intruder is box or person"));
      }
      o.intruder_person = value == "person";
    } else if (flag == "--fps") {
      o.fps = std::atoi(value.c_str());
      if (o.fps < 1 || o.fps > 60) return Unexpected(std::string("--fps is 1 to 60"));
    } else if (flag == "--bitrate-kbps") {
      o.bitrate_kbps = std::atoi(value.c_str());
      if (o.bitrate_kbps < 50 || o.bitrate_kbps > 20000) {
        return Unexpected(std::string("--bitrate-kbps is 50 to 20000"));
      }
    } else {
      return Unexpected("unknown option '" + std::string(flag) + "'");
    }
  }
  // The serial and secret are the device's own (from the factory); a QR payload only says
  // where the cloud is and whose account to join.
  if (o.server.empty() && o.mqtt.empty() && o.provision.empty() && o.softap.empty()) {
    return Unexpected(std::string("--server is required (or --mqtt, --provision or --softap)"));
  }
  if (!o.softap.empty() && o.pairing_code.empty()) {
    return Unexpected(std::string(
        "--softap needs --pairing-code (the code on the label, which the app must prove)"));
  }
  if (!o.provision.empty() && !o.softap.empty()) {
    return Unexpected(std::string("--provision and --softap exclude each other"));
  }
  if (o.mqtt.starts_with("mqtts://") != !o.broker_cert.empty()) {
    return Unexpected(std::string("--mqtt mqtts://… and --broker-cert FILE go together"));
  }
  if (o.serial.empty()) return Unexpected(std::string("--serial is required"));
  if (o.secret_file.empty()) return Unexpected(std::string("--secret-file is required"));
  if (!o.server.empty() && !o.server.starts_with("http://") && !o.server.starts_with("https://")) {
    return Unexpected(std::string("--server must be an http:// or https:// URL"));
  }
  if (o.serial.find_first_of("/#+ ") != std::string::npos) {
    return Unexpected(std::string("--serial must not contain '/', '#', '+' or spaces"));
  }
  if (o.simulate && !o.source.empty()) {
    return Unexpected(std::string("--simulate and --source exclude each other"));
  }
  if (!o.source.empty() && !o.source.starts_with("rtsp://")) {
    return Unexpected(std::string("--source must be an rtsp:// URL"));
  }
  return o;
}

Result<Provision, std::string> parse_provision(std::string_view payload) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("v") || j["v"] != 1 || !j.contains("token") ||
      !j["token"].is_string() || j["token"].get_ref<const std::string&>().empty() ||
      j["token"].get_ref<const std::string&>().size() > 256) {
    return Unexpected(std::string("not a Nightjar QR payload"));
  }
  Provision p;
  p.token = j["token"];
  const auto text = [&](const char* key) -> std::string {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  p.server = text("server");
  p.mqtt = text("mqtt");
  if (p.server.empty() && p.mqtt.empty()) {
    return Unexpected(std::string("the payload says no server"));
  }
  if (!p.server.empty() && !p.server.starts_with("http://") && !p.server.starts_with("https://")) {
    return Unexpected(std::string("the payload's server is not an http(s) URL"));
  }
  if (!p.mqtt.empty() && !p.mqtt.starts_with("mqtt://")) {
    return Unexpected(std::string("the payload's mqtt is not an mqtt:// URL"));
  }
  p.mqtts = text("mqtts");
  p.broker_cert = text("broker_cert");
  if (!p.mqtts.empty() && !p.mqtts.starts_with("mqtts://")) {
    return Unexpected(std::string("the payload's mqtts is not an mqtts:// URL"));
  }
  if (p.mqtts.empty() != p.broker_cert.empty() || p.broker_cert.size() > 4096 ||
      (!p.broker_cert.empty() &&
       p.broker_cert.find("-----BEGIN CERTIFICATE-----") == std::string::npos)) {
    return Unexpected(std::string("the payload's broker and its certificate go together"));
  }
  if (j.contains("wifi") && j["wifi"].is_object() && j["wifi"].contains("ssid") &&
      j["wifi"]["ssid"].is_string()) {
    p.wifi_ssid = j["wifi"]["ssid"];
  }
  return p;
}

}  // namespace nj::cam
