// How deeply a JSON text nests arrays and objects, found by scanning (strings skipped)
// before anything is parsed, so hostile input cannot make a parser or a later recursive
// walk exhaust the stack. Shared by HTTP bodies and device messages.
#pragma once

#include <string_view>

namespace nj {

// True if the text nests arrays/objects deeper than max_depth.
bool json_nesting_exceeds(std::string_view text, int max_depth);

}  // namespace nj
