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
  std::string provision;  // a QR payload from POST /bind-tokens
};

Result<Options, std::string> parse_options(std::span<const std::string_view> args);
std::string usage();

}  // namespace nj::cam
