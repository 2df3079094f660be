# Writes OUT: a C++ function FUNC in namespace nj::account returning the text of IN.
file(READ ${IN} text)
file(WRITE ${OUT}.tmp "// Generated from ${IN}. Do not edit.
#include <string_view>
namespace nj::account {
std::string_view ${FUNC}() {
  static constexpr char kText[] = R\"nj_text(${text})nj_text\";
  return {kText, sizeof kText - 1};
}
}  // namespace nj::account
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
