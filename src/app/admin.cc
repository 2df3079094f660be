#include "app/admin.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "device/stream_tokens.h"
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
  stream-token --serial S --purpose push|play [--ttl-seconds N]
            a short-lived RTSP token for one device and purpose (default 300 s), alone
)";

}  // namespace

int admin(std::span<const std::string_view> args) {
  std::filesystem::path data;
  std::string_view command;
  std::string serial, purpose;
  int64_t ttl_seconds = 300;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) {
      data = std::string(args[++i]);
    } else if (args[i] == "--serial" && i + 1 < args.size()) {
      serial = std::string(args[++i]);
    } else if (args[i] == "--purpose" && i + 1 < args.size()) {
      purpose = std::string(args[++i]);
    } else if (args[i] == "--ttl-seconds" && i + 1 < args.size()) {
      ttl_seconds = std::atoll(std::string(args[++i]).c_str());
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
  if (command == "stream-token") {
    device::StreamPurpose p;
    if (serial.empty() || !device::parse_purpose(purpose, p) || ttl_seconds <= 0 ||
        ttl_seconds > 86400) {
      std::fputs(
          "nightjar admin stream-token: needs --serial S --purpose push|play|talk "
          "[--ttl-seconds 1..86400]\n",
          stderr);
      return 2;
    }
    SystemClock clock;
    auto tokens = device::StreamTokens::open(data / "keys", clock);
    if (!tokens) {
      std::fprintf(stderr, "nightjar admin: %s\n", tokens.error().c_str());
      return 1;
    }
    std::printf("%s\n", tokens->issue(serial, p, ttl_seconds * 1000).c_str());
    return 0;
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
