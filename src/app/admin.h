// `nightjar admin --data DIR …`: operator tasks on a data directory.
#pragma once

#include <span>
#include <string_view>

namespace nj::app {

int admin(std::span<const std::string_view> args);

}  // namespace nj::app
