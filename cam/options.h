// nightjar-cam's command line (DESIGN.md): where the cloud is, who this device is, and
// where its media comes from.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace nj::cam {

struct Options {
  std::string server;  // http(s)://host:port of the Nightjar server
  std::string serial;
  std::filesystem::path secret_file;
  bool simulate = false;
  std::string source;  // rtsp://… of a LAN camera to relay
  std::filesystem::path sd_dir;
  std::filesystem::path speaker;    // a WAV file the simulated speaker plays talk audio into
  std::string provision;            // a QR payload from POST /bind-tokens
  std::string softap;               // host:port: wait there for the app to post the payload
  std::string pairing_code;         // printed on the label; the app must prove it knows it
  std::string broker_cert;          // with --mqtt mqtts://: the certificate to trust (PEM file)
  std::string mqtt;                 // mqtt://host:port; empty: asked of the server
  std::filesystem::path state_dir;  // settings kept here; default: beside the secret file
  // --simulate: picture size, frame rate and bitrate of the synthetic camera.
  int width = 640, height = 360, fps = 15, bitrate_kbps = 600;
  int gop_seconds = 2;           // a keyframe this often
  int motion_every = 0;          // --simulate: an intruder every N s (0: never)
  int motion_for = 3;            // … for the last N s of each period
  bool intruder_person = false;  // … drawn as a person's figure, not a white box
  bool no_detector = false;      // the camera reports no motion of its own
  bool still = false;            // --simulate: nothing moves but the intruder
  bool sync_marks = false;       // --simulate: the picture flashes while the tone beeps
  int telemetry_seconds = 30;    // how often what the camera sent is reported
  int backlog_seconds = 20;      // kept while no server takes the stream (0: none)
  int sd_size_mb = 256;          // --sd-dir: the card's capacity
  int sd_segment_seconds = 60;   // --sd-dir: the length of one recording file
};

Result<Options, std::string> parse_options(std::span<const std::string_view> args);

// A QR payload (POST /api/v1/bind-tokens, scanned by the camera or posted to it in SoftAP
// mode): {"v":1, "server", "mqtt", "token", "wifi":{"ssid","password"}?}.
struct Provision {
  std::string token;   // binds this camera to the account that made it
  std::string server;  // http(s)://… of the cloud
  std::string mqtt;    // mqtt://… of its broker, if the payload says
  // mqtts://… and the broker's certificate (PEM): the only broker the camera gives its
  // secret to once provisioned by a payload.
  std::string mqtts;
  std::string broker_cert;
  std::string wifi_ssid;
};
Result<Provision, std::string> parse_provision(std::string_view payload);
std::string usage();

}  // namespace nj::cam
