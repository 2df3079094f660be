// nightjar-cam: the device agent a camera (or a gateway beside cameras) runs.
#include <cstdio>
#include <vector>

#include "options.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (auto a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(nj::cam::usage().c_str(), stdout);
      return 0;
    }
  }
  auto options = nj::cam::parse_options(args);
  if (!options) {
    std::fprintf(stderr, "nightjar-cam: %s\n%s", options.error().c_str(), nj::cam::usage().c_str());
    return 2;
  }
  // The device plane (MQTT control, RTSP push, simulation) is built by the devices issue;
  // until then the agent validates its configuration and says plainly that it cannot connect.
  std::fprintf(stderr,
               "nightjar-cam: configuration is valid, but this build has no device plane yet "
               "(MQTT control and RTSP push arrive with the devices work); not connecting\n");
  return 3;
}
