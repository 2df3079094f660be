#include "app/admin.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::app {
namespace {

constexpr const char* kUsage = R"(usage: nightjar admin --data DIR COMMAND
commands:
  status    print the database's schema version and this build's, as JSON
  migrate   apply pending database migrations and print the new version
  outbox    the mail the server sent or kept, one {"to","subject","body",…} per line
  jobs      background jobs (account anonymisation) and their progress, one per line
)";

}  // namespace

int admin(std::span<const std::string_view> args) {
  std::filesystem::path data;
  std::string_view command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) {
      data = std::string(args[++i]);
    } else if (command.empty() && !args[i].starts_with("-")) {
      command = args[i];
    } else {
      std::fprintf(stderr, "nightjar admin: unexpected '%.*s'\n%s", int(args[i].size()),
                   args[i].data(), kUsage);
      return 2;
    }
  }
  if (data.empty() || command.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (command != "status" && command != "migrate" && command != "outbox" && command != "jobs") {
    std::fprintf(stderr, "nightjar admin: unknown command '%.*s'\n%s", int(command.size()),
                 command.data(), kUsage);
    return 2;
  }
  if (!std::filesystem::exists(data / "nightjar.db")) {
    std::fprintf(stderr, "nightjar admin: no database in %s\n", data.c_str());
    return 1;
  }
  auto db = store::open_sqlite(data / "nightjar.db");
  if (!db) {
    std::fprintf(stderr, "nightjar admin: %s\n", db.error().message.c_str());
    return 1;
  }
  const int known = store::builtin_migrations().back().version;
  if (command == "migrate") {
    auto v = store::migrate(**db, store::builtin_migrations());
    if (!v) {
      std::fprintf(stderr, "nightjar admin: %s\n", v.error().message.c_str());
      return 1;
    }
    std::printf("%d\n", *v);
    return 0;
  }
  if (command == "outbox" || command == "jobs") {
    auto v = store::schema_version(**db);
    if (!v || *v < 2) {
      std::fprintf(stderr, "nightjar admin: the database has no %.*s yet\n", int(command.size()),
                   command.data());
      return 1;
    }
    if (command == "outbox") {
      auto rows = (*db)->query(
          "SELECT to_addr, subject, body, status, created_at FROM outbox ORDER BY created_at");
      if (!rows) return 1;
      for (const auto& r : *rows) {
        std::printf("%s\n", nlohmann::json{{"to", r.text(0)},
                                           {"subject", r.text(1)},
                                           {"body", r.text(2)},
                                           {"status", r.text(3)},
                                           {"created_at", r.integer(4)}}
                                .dump()
                                .c_str());
      }
      return 0;
    }
    auto rows = (*db)->query(
        "SELECT id, kind, subject, state, progress, created_at, updated_at FROM jobs "
        "ORDER BY created_at");
    if (!rows) return 1;
    for (const auto& r : *rows) {
      std::printf("%s\n", nlohmann::json{{"id", r.text(0)},
                                         {"kind", r.text(1)},
                                         {"subject", r.text(2)},
                                         {"state", r.text(3)},
                                         {"progress", r.text(4)},
                                         {"created_at", r.integer(5)},
                                         {"updated_at", r.integer(6)}}
                              .dump()
                              .c_str());
    }
    return 0;
  }
  auto v = store::schema_version(**db);
  if (!v) {
    std::fprintf(stderr, "nightjar admin: %s\n", v.error().message.c_str());
    return 1;
  }
  std::printf("{\"schema_version\": %d, \"build_schema_version\": %d}\n", *v, known);
  return 0;
}

}  // namespace nj::app
