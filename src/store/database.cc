#include "store/database.h"

namespace nj::store {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kOpen:
      return "open";
    case Errc::kSql:
      return "sql";
    case Errc::kConstraint:
      return "constraint";
    case Errc::kBusy:
      return "busy";
    case Errc::kIo:
      return "io";
    case Errc::kMigration:
      return "migration";
    case Errc::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

int64_t Row::integer(size_t i) const {
  const auto& v = values.at(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double Row::real(size_t i) const {
  const auto& v = values.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  return 0;
}

std::string Row::text(size_t i) const { return optional_text(i).value_or(std::string()); }

std::optional<std::string> Row::optional_text(size_t i) const {
  const auto& v = values.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Blob>(&v)) return std::string(b->begin(), b->end());
  if (const auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  return std::nullopt;
}

std::string_view now_ms_sql(std::string_view dialect) {
  return dialect == "postgres" ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                               : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

}  // namespace nj::store
