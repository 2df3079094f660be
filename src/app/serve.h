// `nightjar serve`: opens the data directory, migrates the database, wires the parts,
// listens, writes ports.json, and runs until SIGINT/SIGTERM.
#pragma once

#include "app/config.h"

namespace nj::app {

int serve(const Config& config);

}  // namespace nj::app
