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
  std::string provision;            // a QR payload from POST /bind-tokens
  std::string mqtt;                 // mqtt://host:port; empty: asked of the server
  std::filesystem::path state_dir;  // settings kept here; default: beside the secret file
  // --simulate: picture size, frame rate and bitrate of the synthetic camera.
  int width = 640, height = 360, fps = 15, bitrate_kbps = 600;
  int telemetry_seconds = 30;   // how often what the camera sent is reported
  int sd_size_mb = 256;         // --sd-dir: the card's capacity
  int sd_segment_seconds = 60;  // --sd-dir: the length of one recording file
};

Result<Options, std::string> parse_options(std::span<const std::string_view> args);
std::string usage();

}  // namespace nj::cam
