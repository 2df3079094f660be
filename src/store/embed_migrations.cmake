# Writes OUT: a C++ file holding every DIR/NNNN_name.sql as nj::store::builtin_migrations().
file(GLOB files ${DIR}/*.sql)
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(base ${f} NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" ok ${base})
  if(NOT ok)
    message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${f}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  set(name ${CMAKE_MATCH_2})
  file(READ ${f} sql)
  string(APPEND body "    {${version}, \"${name}\", R\"nj_sql(${sql})nj_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from src/store/migrations by embed_migrations.cmake. Do not edit.
#include \"store/migrations.h\"

namespace nj::store {

std::span<const Migration> builtin_migrations() {
  static const Migration kMigrations[] = {
${body}  };
  return kMigrations;
}

}  // namespace nj::store
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
