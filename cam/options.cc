#include "options.h"

namespace nj::cam {

std::string usage() {
  return R"(usage: nightjar-cam --server URL --serial S --secret-file F
                    [--simulate | --source rtsp://…] [--sd-dir DIR] [--provision PAYLOAD]
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
    } else if (flag == "--provision") {
      o.provision = value;
    } else {
      return Unexpected("unknown option '" + std::string(flag) + "'");
    }
  }
  if (o.provision.empty()) {
    if (o.server.empty()) return Unexpected(std::string("--server is required"));
    if (o.serial.empty()) return Unexpected(std::string("--serial is required"));
    if (o.secret_file.empty()) return Unexpected(std::string("--secret-file is required"));
  }
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

}  // namespace nj::cam
