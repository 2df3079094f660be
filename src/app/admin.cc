#include "app/admin.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "app/data_dir.h"
#include "audit/audit_log.h"
#include "common/clock.h"
#include "common/time.h"
#include "device/key_file.h"
#include "device/registry.h"
#include "device/service.h"
#include "device/stream_access.h"
#include "device/stream_tokens.h"
#include "keys/key_store.h"
#include "mail/mail.h"
#include "privacy/requests.h"
#include "recording/plans.h"
#include "store/migrations.h"
#include "store/postgres_database.h"
#include "store/sqlite_database.h"
#include "store/transfer.h"

namespace nj::app {
namespace {

constexpr const char* kUsage =
    R"(usage: nightjar admin --data DIR [--keys DIR] [--database URL] [--shared-keys DIR] COMMAND
  --database URL: the server's PostgreSQL database ([database] url), if it does not use
  SQLite in DIR
  --shared-keys DIR: several nodes' shared keys ([cluster] keys_dir), which device
  secrets, pairing codes and stream tokens are made with, if not DIR/keys
commands:
  status    print the database's schema version and this build's, as JSON
  migrate   apply pending database migrations and print the new version
  outbox    the mail the server sent or kept, one {"to","subject","body",…} per line
  jobs      background jobs (account anonymisation) and their progress, one per line
  stream-token --serial S --purpose push|play|talk|sd [--ttl-seconds N]
            a short-lived RTSP token for one device and purpose (default 300 s), alone
  device add --serial S [--model M] [--firmware V] [--mac MAC] [--imei N] [--iccid N]
             [--capabilities audio;talk;sd]
            registers a device and prints its secret, alone (shown this once)
  device import --file F.csv
            registers a factory's devices (header: serial,model,firmware,mac,imei,iccid,
            capabilities; serial required), all or none; prints "serial,secret" lines
  device list
            every registered device, one JSON object per line
  plan create --name N --days D --mode continuous|events [--pre-roll S] [--post-roll S]
            a cloud recording plan: media kept D days; events-only plans keep from
            S s before each event to S s after it (5 and 10 by default)
  plan grant --serial S --plan N [--from TIME] (--to TIME | --for-days N)
            the plan for that device over that period (TIME: RFC 3339 or Unix ms;
            --from defaults to now)
  plan revoke --serial S
            ends the device's plans now (its recordings are deleted within the minute)
  plan list
            the plans, one JSON object per line
  usage
            recorded storage per device and per account, one JSON object per line
  outbound
            every place the server may connect to, as configured when it last started
            (SMTP, push services, the MQTT broker), and the hosts of the webhooks people
            added, with how many each
  requests
            privacy requests, open ones first by due date, one JSON object per line, each
            with "overdue" when its 15 working days are past
  request answer --id ID --text T
            answers an open privacy request; the person sees it in the app and is told
            by e-mail
  verify-audit
            checks the access log's hash chain and its signed checkpoints; prints
            {"rows","checkpoints","problems"} and exits 1 if anything was changed
  device unbind --serial S
            frees a bound camera, as its owner's unbind does (shares end, plan ended,
            recordings deleted, the pictures' key destroyed at once (--keys, if the server's
            is not DIR-keys); the running server cuts its streams and credentials within
            seconds); prints {"serial","unbound_from"}
  device label --serial S
            what goes on the device's label: {"serial","pairing_code"} (for adding it by
            hand in the app, when it cannot scan a code)
  migrate-to-postgres --from DIR --to URL
            copies an embedded install's database (DIR/nightjar.db; stop its server first)
            into an empty PostgreSQL database, checks every table's row count and checksum
            on both sides, and prints them; then set [database] url = URL (the media, keys
            and pictures stay in DIR)
)";

void print_device(const device::Device& d) {
  std::printf("%s\n", nlohmann::json{{"id", d.id},
                                     {"serial", d.serial},
                                     {"model", d.model},
                                     {"firmware", d.firmware},
                                     {"mac", d.mac},
                                     {"imei", d.imei},
                                     {"iccid", d.iccid},
                                     {"capabilities", d.capabilities},
                                     {"owner_id", d.owner_id.value_or("")},
                                     {"online", d.online},
                                     {"enabled", d.enabled},
                                     {"created_at", d.created_at}}
                          .dump()
                          .c_str());
}

int device_command(const std::filesystem::path& shared_keys, store::Database& db,
                   std::string_view sub, const device::DeviceSpec& spec, const std::string& file) {
  auto v = store::schema_version(db);
  if (!v || *v < 3) {
    std::fputs("nightjar admin: the database has no devices yet (nightjar admin migrate)\n",
               stderr);
    return 1;
  }
  auto secrets = device::SecretDeriver::open(shared_keys);
  if (!secrets) {
    std::fprintf(stderr, "nightjar admin: %s\n", secrets.error().c_str());
    return 1;
  }
  SystemClock clock;
  device::DeviceRegistry registry(db, *secrets, clock);
  auto fail = [](const device::DeviceError& e) {
    std::fprintf(stderr, "nightjar admin: %s%s%s\n", e.message.c_str(), e.field.empty() ? "" : " ",
                 e.field.empty() ? "" : ("(" + e.field + ")").c_str());
    return e.code == device::Errc::kInternal ? 1 : 3;
  };
  if (sub == "add") {
    auto added = registry.add(spec);
    if (!added) return fail(added.error());
    std::printf("%s\n", added->secret.c_str());
    return 0;
  }
  if (sub == "import") {
    std::ifstream in(file);
    if (file.empty() || !in) {
      std::fprintf(stderr, "nightjar admin: cannot read '%s'\n", file.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto added = registry.import_csv(text.str());
    if (!added) return fail(added.error());
    for (const auto& d : *added) std::printf("%s,%s\n", d.device.serial.c_str(), d.secret.c_str());
    return 0;
  }
  if (sub == "list") {
    for (const auto& d : registry.all()) print_device(d);
    return 0;
  }
  if (sub == "label") {
    auto device = registry.by_serial(spec.serial);
    if (!device) return fail(device.error());
    std::printf("%s\n", nlohmann::json{{"serial", device->serial},
                                       {"pairing_code", registry.pairing_code(device->serial)}}
                            .dump()
                            .c_str());
    return 0;
  }
  if (sub == "unbind") {
    // An operator frees a camera (its owner is gone, or asks): the same as the owner's
    // unbind. The running server notices within seconds and ends everything of that
    // binding (streams, credentials, connections, recordings).
    auto device = registry.by_serial(spec.serial);
    if (!device) return fail(device.error());
    if (!device->owner_id) {
      std::fprintf(stderr, "nightjar admin: %s is not bound to anyone\n", spec.serial.c_str());
      return 3;
    }
    device::DeviceService service(db, registry, clock);
    const std::string owner = *device->owner_id;
    if (auto done = service.unbind(owner, device->id, {}); !done) return fail(done.error());
    recording::Plans(db, clock).revoke(device->serial);
    std::fprintf(stderr, "nightjar admin: device %s unbound from account %s by the operator\n",
                 device->serial.c_str(), owner.c_str());
    std::printf("%s\n",
                nlohmann::json{{"serial", device->serial}, {"unbound_from", owner}}.dump().c_str());
    return 0;
  }
  std::fprintf(stderr, "nightjar admin device: add, import, list, label or unbind\n%s", kUsage);
  return 2;
}

struct PlanArgs {
  std::string name, mode, plan, from, to, serial;
  int days = 0, for_days = 0;
  int pre_roll = 5, post_roll = 10;
};

int plan_command(store::Database& db, std::string_view sub, const PlanArgs& a) {
  SystemClock clock;
  recording::Plans plans(db, clock);
  const auto fail = [](const std::string& why) {
    std::fprintf(stderr, "nightjar admin plan: %s\n", why.c_str());
    return 3;
  };
  const auto print = [](const recording::Plan& p) {
    std::printf("%s\n", nlohmann::json{{"name", p.name},
                                       {"retention_days", p.retention_days},
                                       {"mode", p.mode},
                                       {"pre_roll_s", p.pre_roll_s},
                                       {"post_roll_s", p.post_roll_s}}
                            .dump()
                            .c_str());
  };
  if (sub == "create") {
    auto p = plans.create(a.name, a.days, a.mode, a.pre_roll, a.post_roll);
    if (!p) return fail(p.error());
    print(*p);
    return 0;
  }
  if (sub == "list") {
    for (const auto& p : plans.all()) print(p);
    return 0;
  }
  if (sub == "grant") {
    int64_t from = clock.now_ms();
    if (!a.from.empty()) {
      const auto t = parse_time_param(a.from);
      if (!t) return fail("--from is RFC 3339 or Unix ms");
      from = t->time_since_epoch().count();
    }
    int64_t to = 0;
    if (!a.to.empty()) {
      const auto t = parse_time_param(a.to);
      if (!t) return fail("--to is RFC 3339 or Unix ms");
      to = t->time_since_epoch().count();
    } else if (a.for_days > 0) {
      to = from + int64_t{a.for_days} * 86'400'000;
    } else {
      return fail("say until when: --to TIME or --for-days N");
    }
    auto g = plans.grant(a.serial, a.plan, from, to);
    if (!g) return fail(g.error());
    std::printf(
        "%s\n",
        nlohmann::json{{"serial", a.serial}, {"plan", a.plan}, {"starts_at", from}, {"ends_at", to}}
            .dump()
            .c_str());
    return 0;
  }
  if (sub == "revoke") {
    if (a.serial.empty()) return fail("--serial is needed");
    plans.revoke(a.serial);
    return 0;
  }
  std::fprintf(stderr, "nightjar admin plan: create, grant, revoke or list\n%s", kUsage);
  return 2;
}

// An operator's action, appended to the access log the server writes (the same chain, the
// same signing key); the change it records is already made.
void log_operator(const std::filesystem::path& data, store::Database& db, const std::string& kind,
                  const std::string& serial, const nlohmann::json& detail) {
  auto seed = device::load_or_create_key(data / "keys", "audit-signing.key");
  if (!seed) {
    std::fprintf(stderr, "nightjar admin: not in the access log: %s\n", seed.error().c_str());
    return;
  }
  const audit::Signer signer(*seed);
  SystemClock clock;
  audit::AuditLog log(db, clock, signer, data / "audit" / "checkpoints");
  std::string device_id;
  int64_t generation = 0;
  if (!serial.empty()) {
    const store::Value q[] = {serial};
    auto rows = db.query("SELECT id, binding_generation FROM devices WHERE serial = $1", q);
    if (rows && !rows->empty()) {
      device_id = rows->front().text(0);
      generation = rows->front().integer(1);
    }
  }
  if (!log.append({kind, device_id, generation, "operator", "", detail.dump()})) {
    std::fprintf(stderr, "nightjar admin: the access log refused the entry\n");
  }
  log.checkpoint();
}

// An embedded install's database onto PostgreSQL, checked (store/transfer.h).
int migrate_to_postgres(const std::filesystem::path& from, const std::string& to) {
  if (from.empty() || to.empty()) {
    std::fputs("nightjar admin migrate-to-postgres: needs --from DIR --to URL\n", stderr);
    return 2;
  }
  if (!std::filesystem::exists(from / "nightjar.db")) {
    std::fprintf(stderr, "nightjar admin: no database in %s\n", from.c_str());
    return 1;
  }
  // The server's own lock, held for the whole copy: none may write meanwhile.
  auto held = DataDir::open(from);
  if (!held) {
    std::fprintf(stderr, "nightjar admin: %s: stop its server first\n", held.error().c_str());
    return 1;
  }
  auto source = store::open_sqlite(from / "nightjar.db");
  if (!source) {
    std::fprintf(stderr, "nightjar admin: %s\n", source.error().message.c_str());
    return 1;
  }
  auto target = store::open_postgres(to, {1});
  if (!target) {
    std::fprintf(stderr, "nightjar admin: %s\n", target.error().message.c_str());
    return 1;
  }
  auto copied = store::copy_to_postgres(**source, **target);
  if (!copied) {
    std::fprintf(stderr, "nightjar admin migrate-to-postgres: %s\n",
                 copied.error().message.c_str());
    return 1;
  }
  nlohmann::json tables = nlohmann::json::array();
  int64_t rows = 0;
  for (const auto& t : *copied) {
    char checksum[17];
    std::snprintf(checksum, sizeof checksum, "%016llx",
                  static_cast<unsigned long long>(t.checksum));
    tables.push_back({{"table", t.table}, {"rows", t.rows}, {"checksum", checksum}});
    rows += t.rows;
  }
  std::printf(
      "%s\n",
      nlohmann::json{{"tables", tables}, {"rows", rows}, {"verified", true}}.dump().c_str());
  return 0;
}

}  // namespace

int admin(std::span<const std::string_view> args) {
  std::filesystem::path data, key_dir, shared_key_dir;
  std::string database_url;
  std::string_view command;
  std::string serial, purpose, file, request_id, answer_text;
  std::string_view sub;
  device::DeviceSpec spec;
  int64_t ttl_seconds = 300;
  PlanArgs plan_args;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) {
      data = std::string(args[++i]);
    } else if (args[i] == "--keys" && i + 1 < args.size()) {
      key_dir = std::string(args[++i]);
    } else if (args[i] == "--shared-keys" && i + 1 < args.size()) {
      shared_key_dir = std::string(args[++i]);
    } else if (args[i] == "--database" && i + 1 < args.size()) {
      database_url = std::string(args[++i]);
    } else if (args[i] == "--serial" && i + 1 < args.size()) {
      serial = std::string(args[++i]);
    } else if (args[i] == "--purpose" && i + 1 < args.size()) {
      purpose = std::string(args[++i]);
    } else if (args[i] == "--ttl-seconds" && i + 1 < args.size()) {
      ttl_seconds = std::atoll(std::string(args[++i]).c_str());
    } else if (args[i] == "--model" && i + 1 < args.size()) {
      spec.model = std::string(args[++i]);
    } else if (args[i] == "--firmware" && i + 1 < args.size()) {
      spec.firmware = std::string(args[++i]);
    } else if (args[i] == "--mac" && i + 1 < args.size()) {
      spec.mac = std::string(args[++i]);
    } else if (args[i] == "--imei" && i + 1 < args.size()) {
      spec.imei = std::string(args[++i]);
    } else if (args[i] == "--iccid" && i + 1 < args.size()) {
      spec.iccid = std::string(args[++i]);
    } else if (args[i] == "--capabilities" && i + 1 < args.size()) {
      spec.capabilities = std::string(args[++i]);
    } else if (args[i] == "--file" && i + 1 < args.size()) {
      file = std::string(args[++i]);
    } else if (args[i] == "--name" && i + 1 < args.size()) {
      plan_args.name = std::string(args[++i]);
    } else if (args[i] == "--days" && i + 1 < args.size()) {
      plan_args.days = std::atoi(std::string(args[++i]).c_str());
    } else if (args[i] == "--mode" && i + 1 < args.size()) {
      plan_args.mode = std::string(args[++i]);
    } else if (args[i] == "--pre-roll" && i + 1 < args.size()) {
      plan_args.pre_roll = std::atoi(std::string(args[++i]).c_str());
    } else if (args[i] == "--post-roll" && i + 1 < args.size()) {
      plan_args.post_roll = std::atoi(std::string(args[++i]).c_str());
    } else if (args[i] == "--plan" && i + 1 < args.size()) {
      plan_args.plan = std::string(args[++i]);
    } else if (args[i] == "--from" && i + 1 < args.size()) {
      plan_args.from = std::string(args[++i]);
    } else if (args[i] == "--to" && i + 1 < args.size()) {
      plan_args.to = std::string(args[++i]);
    } else if (args[i] == "--for-days" && i + 1 < args.size()) {
      plan_args.for_days = std::atoi(std::string(args[++i]).c_str());
    } else if (command.empty() && !args[i].starts_with("-")) {
      command = args[i];
    } else if (args[i] == "--id" && i + 1 < args.size()) {
      request_id = std::string(args[++i]);
    } else if (args[i] == "--text" && i + 1 < args.size()) {
      answer_text = std::string(args[++i]);
    } else if ((command == "device" || command == "plan" || command == "request") && sub.empty() &&
               !args[i].starts_with("-")) {
      sub = args[i];
    } else {
      std::fprintf(stderr, "nightjar admin: unexpected '%.*s'\n%s", int(args[i].size()),
                   args[i].data(), kUsage);
      return 2;
    }
  }
  // Its --from and --to are a data directory and a database URL.
  if (command == "migrate-to-postgres") return migrate_to_postgres(plan_args.from, plan_args.to);
  if (data.empty() || command.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Device secrets, pairing codes and stream tokens: the nodes' shared keys, or DIR/keys.
  const std::filesystem::path shared_keys = shared_key_dir.empty() ? data / "keys" : shared_key_dir;
  // The server's database: PostgreSQL when given, else SQLite in the data directory.
  const auto has_database = [&] {
    return !database_url.empty() || std::filesystem::exists(data / "nightjar.db");
  };
  const auto open_database = [&] {
    return database_url.empty() ? store::open_sqlite(data / "nightjar.db")
                                : store::open_postgres(database_url, {1});
  };
  if (command == "stream-token") {
    device::StreamPurpose p;
    if (serial.empty() || !device::parse_purpose(purpose, p) || ttl_seconds <= 0 ||
        ttl_seconds > 86400) {
      std::fputs(
          "nightjar admin stream-token: needs --serial S --purpose push|play|talk|sd "
          "[--ttl-seconds 1..86400]\n",
          stderr);
      return 2;
    }
    SystemClock clock;
    auto tokens = device::StreamTokens::open(shared_keys, clock);
    if (!tokens) {
      std::fprintf(stderr, "nightjar admin: %s\n", tokens.error().c_str());
      return 1;
    }
    // An operator's token, for the device's binding now (generation 0: not a device).
    int64_t generation = 0;
    if (has_database()) {
      auto db = open_database();
      if (!db) {
        std::fprintf(stderr, "nightjar admin: %s\n", db.error().message.c_str());
        return 1;
      }
      const store::Value q[] = {serial};
      auto rows = (*db)->query("SELECT binding_generation FROM devices WHERE serial = $1", q);
      if (rows && !rows->empty()) generation = rows->front().integer(0);
    }
    std::printf("%s\n",
                device::operator_token(*tokens, serial, p, generation, ttl_seconds * 1000).c_str());
    if (has_database()) {
      if (auto db = open_database()) {
        log_operator(data, **db, "operator.stream_token", serial,
                     {{"purpose", purpose}, {"ttl_s", ttl_seconds}});
      }
    }
    return 0;
  }
  if (command != "status" && command != "migrate" && command != "outbox" && command != "jobs" &&
      command != "device" && command != "plan" && command != "usage" && command != "verify-audit" &&
      command != "requests" && command != "request" && command != "outbound") {
    std::fprintf(stderr, "nightjar admin: unknown command '%.*s'\n%s", int(command.size()),
                 command.data(), kUsage);
    return 2;
  }
  if (!has_database()) {
    std::fprintf(stderr, "nightjar admin: no database in %s\n", data.c_str());
    return 1;
  }
  auto db = open_database();
  if (!db) {
    std::fprintf(stderr, "nightjar admin: %s\n", db.error().message.c_str());
    return 1;
  }
  if (command == "device") {
    spec.serial = serial;
    const int rc = device_command(shared_keys, **db, sub, spec, file);
    if (rc == 0 && sub == "unbind") {
      // Its pictures' key goes now (the server would, within the second, when it notices).
      const store::Value q[] = {serial};
      auto rows = (*db)->query("SELECT id FROM devices WHERE serial = $1", q);
      auto store = keys::KeyStore::open(
          key_dir.empty() ? data.parent_path() / (data.filename().string() + "-keys") : key_dir);
      if (rows && !rows->empty() && store) (*store)->destroy_device(rows->front().text(0));
    }
    if (rc == 0 && (sub == "add" || sub == "import" || sub == "unbind")) {
      log_operator(data, **db, "operator.device_" + std::string(sub), serial,
                   sub == "import"
                       ? nlohmann::json{{"file", std::filesystem::path(file).filename().string()}}
                       : nlohmann::json::object());
    }
    return rc;
  }
  if (command == "plan") {
    plan_args.serial = serial;
    const int rc = plan_command(**db, sub, plan_args);
    if (rc == 0 && (sub == "create" || sub == "grant" || sub == "revoke")) {
      const std::string plan = plan_args.plan.empty() ? plan_args.name : plan_args.plan;
      log_operator(data, **db, "operator.plan_" + std::string(sub), serial, {{"plan", plan}});
    }
    return rc;
  }
  if (command == "outbound") {
    std::ifstream in(data / "outbound.json");
    auto configured = nlohmann::json::parse(in, nullptr, false);
    if (configured.is_discarded()) configured = nlohmann::json::object();
    std::map<std::string, int> hosts;
    if (auto rows = (*db)->query("SELECT url FROM webhooks")) {
      for (const auto& r : *rows) {
        // scheme://host[:port]/… → host[:port]
        const std::string url = r.text(0);
        const auto start = url.find("://");
        if (start == std::string::npos) continue;
        const auto end = url.find_first_of("/?#", start + 3);
        std::string authority =
            url.substr(start + 3, end == std::string::npos ? std::string::npos : end - start - 3);
        // Never a user name or password that might be in it.
        if (const auto at = authority.rfind('@'); at != std::string::npos) {
          authority.erase(0, at + 1);
        }
        ++hosts[authority];
      }
    }
    configured["webhook_hosts"] = hosts;
    std::printf("%s\n", configured.dump(2).c_str());
    return 0;
  }
  if (command == "requests") {
    SystemClock clock;
    privacy::Requests requests(**db, clock, {});
    const int64_t now = clock.now_ms();
    for (const auto& q : requests.all()) {
      std::printf("%s\n", nlohmann::json{{"id", q.id},
                                         {"from", q.email},
                                         {"kind", q.kind},
                                         {"text", q.body},
                                         {"created_ms", q.created_at},
                                         {"due_ms", q.due_at},
                                         {"status", q.status},
                                         {"overdue", q.status == "open" && now > q.due_at},
                                         {"answer", q.answer}}
                              .dump()
                              .c_str());
    }
    return 0;
  }
  if (command == "request") {
    if (sub != "answer" || request_id.empty() || answer_text.empty()) {
      std::fputs("nightjar admin request answer --id ID --text T\n", stderr);
      return 2;
    }
    SystemClock clock;
    privacy::Requests requests(**db, clock, {});
    const auto q = requests.get(request_id);
    if (!q || !requests.answer(request_id, answer_text)) {
      std::fprintf(stderr, "nightjar admin: no open request %s\n", request_id.c_str());
      return 1;
    }
    if (!q->email.empty()) {
      mail::Outbox outbox(**db, clock, true);  // sent with the server's next mail
      (void)outbox.enqueue({q->email, "Your privacy request was answered",
                            "Your " + q->kind +
                                " request has been answered. Sign in and open Account → Privacy "
                                "centre to read the answer.\n"});
    }
    log_operator(data, **db, "operator.request_answer", "", {{"request", request_id}});
    std::printf("%s\n", nlohmann::json{{"id", request_id}, {"status", "answered"}}.dump().c_str());
    return 0;
  }
  if (command == "verify-audit") {
    if (!std::filesystem::exists(data / "keys" / "audit-signing.key")) {
      std::fprintf(stderr, "nightjar admin: no access-log key in %s/keys\n", data.c_str());
      return 1;
    }
    auto seed = device::load_or_create_key(data / "keys", "audit-signing.key");
    if (!seed) {
      std::fprintf(stderr, "nightjar admin: %s\n", seed.error().c_str());
      return 1;
    }
    const audit::Signer signer(*seed);
    const auto report = audit::verify(**db, signer.public_hex(), data / "audit" / "checkpoints");
    std::printf("%s\n", nlohmann::json{{"rows", report.rows},
                                       {"checkpoints", report.checkpoints},
                                       {"problems", report.problems}}
                            .dump()
                            .c_str());
    return report.problems.empty() ? 0 : 1;
  }
  if (command == "usage") {
    // Space accounting: what each device's recordings take, and each account's total.
    auto rows = (*db)->query(
        "SELECT d.serial, COALESCE(u.email, ''), COUNT(s.id), COALESCE(SUM(s.bytes), 0), "
        "COALESCE(MIN(s.start_ms), 0), COALESCE(MAX(s.end_ms), 0) FROM recording_segments s "
        "JOIN devices d ON d.id = s.device_id LEFT JOIN users u ON u.id = d.owner_id "
        "GROUP BY d.serial, u.email ORDER BY u.email, d.serial");
    if (!rows) {
      std::fprintf(stderr, "nightjar admin: %s\n", rows.error().message.c_str());
      return 1;
    }
    std::map<std::string, std::pair<int64_t, int64_t>> accounts;  // email → devices, bytes
    for (const auto& r : *rows) {
      std::printf("%s\n", nlohmann::json{{"device", r.text(0)},
                                         {"account", r.text(1)},
                                         {"segments", r.integer(2)},
                                         {"bytes", r.integer(3)},
                                         {"from_ms", r.integer(4)},
                                         {"to_ms", r.integer(5)}}
                              .dump()
                              .c_str());
      auto& a = accounts[r.text(1)];
      ++a.first;
      a.second += r.integer(3);
    }
    for (const auto& [email, totals] : accounts) {
      std::printf(
          "%s\n",
          nlohmann::json{{"account", email}, {"devices", totals.first}, {"bytes", totals.second}}
              .dump()
              .c_str());
    }
    return 0;
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
