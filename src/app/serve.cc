#include "app/serve.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "account/crypto.h"
#include "account/policy.h"
#include "account/service.h"
#include "api/access_log.h"
#include "api/auth.h"
#include "api/broker_hook.h"
#include "api/client_errors.h"
#include "api/demo.h"
#include "api/detection.h"
#include "api/device_uploads.h"
#include "api/devices.h"
#include "api/events.h"
#include "api/export.h"
#include "api/guard.h"
#include "api/health.h"
#include "api/hls.h"
#include "api/live.h"
#include "api/me.h"
#include "api/media_access.h"
#include "api/notifications.h"
#include "api/notify_channels.h"
#include "api/policy.h"
#include "api/privacy_requests.h"
#include "api/recordings.h"
#include "api/regions.h"
#include "api/snapshot.h"
#include "api/talk.h"
#include "app/broker_cert.h"
#include "app/data_dir.h"
#include "app/demo_cameras.h"
#include "app/event_reaper.h"
#include "app/recording_jobs.h"
#include "app/region_mover.h"
#include "audit/audit_log.h"
#include "cluster/cluster.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/stop_signals.h"
#include "common/time.h"
#include "common/time_zone.h"
#include "common/worker_pool.h"
#include "detect/service.h"
#include "device/access_watch.h"
#include "device/binding_sweep.h"
#include "device/broker_link.h"
#include "device/key_file.h"
#include "device/privacy_scheduler.h"
#include "device/registry.h"
#include "device/service.h"
#include "device/settings_change.h"
#include "device/stream_access.h"
#include "device/stream_demand.h"
#include "device/stream_tokens.h"
#include "events/camera_snapshots.h"
#include "events/event_service.h"
#include "events/event_store.h"
#include "events/hub_snapshots.h"
#include "http/json.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_files.h"
#include "keys/key_store.h"
#include "mail/mail.h"
#include "mail/smtp.h"
#include "media/fmp4/live.h"
#include "media/hub/hub.h"
#include "media/rtsp/client_io.h"
#include "media/rtsp/server.h"
#include "metrics/registry.h"
#include "mqtt/broker.h"
#include "mqtt/client.h"
#include "net/io_pool.h"
#include "notify/arming.h"
#include "notify/email_channel.h"
#include "notify/engine.h"
#include "notify/home_mqtt.h"
#include "notify/in_app.h"
#include "notify/preferences.h"
#include "notify/push_channel.h"
#include "notify/web_push.h"
#include "notify/webhooks.h"
#include "privacy/consents.h"
#include "privacy/regions.h"
#include "recording/s3_store.h"
#include "store/change_feed.h"
#include "store/migrations.h"
#include "store/postgres_database.h"
#include "store/sqlite_database.h"
#include "talk/call_log.h"
#include "talk/talk_service.h"

namespace nj::app {
namespace {

// This installation's id, created with the database.
store::StoreResult<std::string> instance_id(store::Database& db) {
  const store::Value params[] = {std::string("instance_id"), random_hex_id()};
  if (auto r = db.execute("INSERT INTO server_meta (key, value) VALUES ($1, $2) "
                          "ON CONFLICT (key) DO NOTHING",
                          params);
      !r) {
    return Unexpected(std::move(r).error());
  }
  auto rows = db.query("SELECT value FROM server_meta WHERE key = 'instance_id'");
  if (!rows) return Unexpected(std::move(rows).error());
  return rows->at(0).text(0);
}

void add_process_metrics(metrics::Registry& registry, const std::string& version) {
  registry.gauge("nightjar_build_info", "Build of the running server.", {"version"})
      .with({version})
      .set(1);
  const double start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  registry.gauge("process_start_time_seconds", "Start time of the process since the epoch.")
      .with({})
      .set(start);
}

std::string url_host(const std::string& listen) {
  if (listen == "0.0.0.0") return "127.0.0.1";
  if (listen == "::") return "[::1]";
  if (listen.find(':') != std::string::npos) return "[" + listen + "]";
  return listen;
}

account::AccountOptions account_options(const AccountsConfig& a, std::string public_url,
                                        std::string policy_version) {
  account::AccountOptions o;
  o.public_url = std::move(public_url);
  o.policy_version = std::move(policy_version);
  o.verify_token_ttl_ms = a.verify_token_ttl_s * 1000;
  o.reset_token_ttl_ms = a.reset_token_ttl_s * 1000;
  o.session_idle_ms = a.session_idle_timeout_s * 1000;
  o.session_absolute_ms = a.session_absolute_timeout_s * 1000;
  o.throttle.account_threshold = a.lockout_threshold;
  o.throttle.address_threshold = a.address_lockout_threshold;
  // Guessing one account from many addresses slows it for new addresses (never its owner's).
  o.throttle.account_wide_threshold = 4 * a.lockout_threshold;
  o.throttle.base_lock_ms = a.lockout_base_s * 1000;
  o.throttle.max_lock_ms = a.lockout_max_s * 1000;
  return o;
}

// --demo: a ready account. Its password is made once and kept in DIR/demo-login.txt.
std::optional<std::string> ensure_demo_account(account::AccountService& accounts,
                                               const std::filesystem::path& dir) {
  const auto file = dir / "demo-login.txt";
  const std::string email = "demo@nightjar.local";
  std::string password;
  if (std::ifstream in(file); in) std::getline(in, password);
  if (password.empty()) {
    password = "demo-" + account::random_token(9);
    auto created = accounts.create_verified_account(email, password, "en");
    if (!created) {
      spdlog::warn("demo.account_failed reason=\"{}\"", created.error().message);
      return std::nullopt;
    }
    std::ofstream(file) << password << "\n";
    std::filesystem::permissions(
        file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  return email + " / " + password;
}

// The change feed's topics (store/change_feed.h): "serial user", "serial", "user".
constexpr std::string_view kAccessEnded = "access.ended";
constexpr std::string_view kDeviceEnded = "device.ended";
constexpr std::string_view kAccountEnded = "account.ended";
// "user": sessions of the account ended or changed; each node forgets what it kept of them.
constexpr std::string_view kSessionsChanged = "sessions.changed";
// "serial": a node relays the camera's stream and asks the node that holds it to start it.
constexpr std::string_view kStreamWanted = "stream.wanted";

// RTSP access: a stream token for the device and the purpose, re-checked now (the subject's
// right under the binding it was minted under); the session then holds its access in the
// watch, which closes it the moment that access ends.
class TokenAuthorizer final : public media::rtsp::Authorizer {
 public:
  TokenAuthorizer(const device::StreamAccess& access, device::AccessWatch& watch)
      : access_(access), watch_(watch) {}
  std::unique_ptr<media::rtsp::AccessGrant> allow(std::string_view serial,
                                                  media::rtsp::Purpose purpose,
                                                  std::string_view token,
                                                  std::function<void()> revoked) override {
    device::StreamPurpose p = device::StreamPurpose::kPlay;
    switch (purpose) {
      case media::rtsp::Purpose::kPush:
        p = device::StreamPurpose::kPush;
        break;
      case media::rtsp::Purpose::kSdPush:
        p = device::StreamPurpose::kSdPush;
        break;
      case media::rtsp::Purpose::kPlay:
        p = device::StreamPurpose::kPlay;
        break;
      case media::rtsp::Purpose::kTalk:
        p = device::StreamPurpose::kTalk;
        break;
    }
    auto holder = access_.check(token, serial, p);
    if (!holder) return nullptr;
    auto grant = std::make_unique<Held>();
    grant->hold =
        watch_.hold(holder->serial, holder->subject, holder->generation, std::move(revoked));
    return grant;
  }

 private:
  struct Held final : media::rtsp::AccessGrant {
    std::unique_ptr<device::AccessWatch::Hold> hold;
  };
  const device::StreamAccess& access_;
  device::AccessWatch& watch_;
};

// The demo's second camera ("Garden") is recorded continuously, kept a day, so a newcomer
// finds recordings to play; the first stays on demand.
void grant_demo_plan(recording::Plans& plans, device::DeviceRegistry& devices) {
  const auto garden = devices.by_serial("DEMO-CAM-2");
  if (!garden || plans.in_force(garden->id)) return;
  if (!plans.by_name("demo")) (void)plans.create("demo", 1, "continuous");
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  (void)plans.grant("DEMO-CAM-2", "demo", now, now + int64_t{365} * 86'400'000);
}

// This node's id when none is configured: made once, kept in the data directory.
std::string node_identity(const std::filesystem::path& dir) {
  const auto file = dir / "node-id";
  std::string id;
  std::ifstream(file) >> id;
  if (id.empty()) {
    id = "node-" + random_hex_id().substr(0, 12);
    std::ofstream(file) << id << "\n";
  }
  return id;
}

// Work one node at a time does (cluster::Leases): true while this node holds the lease;
// taking it and losing it are logged, and shown in nightjar_leases_held{name}.
struct Singleton {
  cluster::Leases& leases;
  std::string name;
  metrics::GaugeFamily& gauge;
  std::string node;
  bool held = false;
  bool operator()() {
    const bool now = leases.hold(name);
    if (now != held) {
      spdlog::info("lease.{} name={} node={}", now ? "taken" : "lost", name, node);
      gauge.with({name}).set(now ? 1 : 0);
      held = now;
    }
    return now;
  }
};

// Runs a task every period on its own thread until destroyed (background jobs, sweeps).
class Every {
 public:
  Every(std::chrono::milliseconds period, std::function<void()> task)
      : period_(period), task_(std::move(task)), thread_([this] { run(); }) {}
  ~Every() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
      lock.unlock();
      task_();
      lock.lock();
    }
  }
  std::chrono::milliseconds period_;
  std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int serve(const Config& config) {
  if (!log::init(config.log)) {
    std::fprintf(stderr, "nightjar: unknown log level '%s'\n", config.log.level.c_str());
    return 2;
  }
  // Signals are taken by sigwait below: block them before any thread starts.
  const sigset_t signals = block_stop_signals();
  signal(SIGPIPE, SIG_IGN);

  auto data = DataDir::open(config.data_dir);
  if (!data) {
    spdlog::critical("startup.failed reason=\"{}\"", data.error());
    return 1;
  }
  data->remove_ports();  // stale from an earlier run: never let a reader trust it

  // SQLite in the data directory, or PostgreSQL when configured (issue #17).
  auto db = config.database.url.empty()
                ? store::open_sqlite(data->database())
                : store::open_postgres(config.database.url,
                                       {static_cast<size_t>(config.database.pool_size)});
  if (!db) {
    spdlog::critical("startup.failed reason=\"{}\"", db.error().message);
    return 1;
  }
  auto version = store::migrate(**db, store::builtin_migrations());
  if (!version) {
    spdlog::critical("startup.failed reason=\"{}\"", version.error().message);
    return 1;
  }
  auto instance = instance_id(**db);
  if (!instance) {
    spdlog::critical("startup.failed reason=\"{}\"", instance.error().message);
    return 1;
  }
  spdlog::info("store.ready engine={} schema_version={}", (*db)->dialect(), *version);

  metrics::Registry metrics;
  // Several nodes on one database (issue #17): this node's id among them, and the work that
  // one node at a time does, held by lease on the database's clock. A job done every second
  // holds its lease for 10 s; one done every minute, for 150 s, so that no other node does
  // the same minute's work; a node that dies gives its jobs up when its leases lapse.
  const std::string node_id =
      config.cluster.node.empty() ? node_identity(data->path()) : config.cluster.node;
  cluster::Leases short_leases(**db, node_id, std::chrono::seconds(10));
  cluster::Leases long_leases(**db, node_id, std::chrono::seconds(150));
  auto& leases_held = metrics.gauge("nightjar_leases_held",
                                    "Work one node at a time does, held by this node.", {"name"});
  const auto singleton = [&](cluster::Leases& leases, std::string name) {
    return Singleton{leases, std::move(name), leases_held, node_id};
  };
  auto anonymising = singleton(short_leases, "anonymise");
  auto exporting_lease = singleton(short_leases, "exports");
  auto moving_lease = singleton(short_leases, "region-moves");
  auto event_reaper_lease = singleton(long_leases, "event-reaper");
  auto recording_reaper_lease = singleton(long_leases, "recording-reaper");
  // Which node each camera's stream lives on, as of the last heartbeat (alone: this one).
  cluster::Placement placement(node_id);
  add_process_metrics(metrics, NJ_VERSION);
  // Connections open on a right to a device (made before any server, so it outlives them).
  device::AccessWatch access_watch;
  // Changes every node must hear at once (store/change_feed.h, issue #17): on PostgreSQL,
  // LISTEN/NOTIFY, so an access ended through another node ends here too.
  auto change_feed =
      config.database.url.empty()
          ? store::StoreResult<std::unique_ptr<store::ChangeFeed>>(store::local_change_feed())
          : store::postgres_change_feed(config.database.url);
  if (!change_feed) {
    spdlog::critical("startup.failed reason=\"{}\"", change_feed.error().message);
    return 1;
  }
  store::ChangeFeed& changes = **change_feed;

  account::PolicyText policy = account::builtin_policy();
  if (!config.accounts.policy_dir.empty()) {
    auto loaded = account::load_policy(config.accounts.policy_dir);
    if (!loaded) {
      spdlog::critical("startup.failed reason=\"{}\"", loaded.error());
      return 1;
    }
    policy = std::move(*loaded);
  }
  if (!account::crypto_init()) {
    spdlog::critical("startup.failed reason=\"libsodium did not start\"");
    return 1;
  }

  http::Router router;
  api::HealthApi health(**db, metrics, {NJ_VERSION, *instance});
  health.install(router);
  api::ClientErrorsApi client_errors(metrics, {});
  client_errors.install(router);

  std::error_code ec;
  http::StaticFiles web(config.web_root);
  if (std::filesystem::is_regular_file(web.root() / "index.html", ec)) {
    router.set_fallback([&web](const http::Request& r) { return web.serve(r); });
  } else {
    spdlog::warn("web.missing root={} hint=\"run make build to build the web app\"",
                 web.root().string());
  }

  net::IoPool pool(config.threads);
  http::Server server(pool, router, metrics, config.http);
  auto port = server.listen(config.listen, config.http_port);
  if (!port) {
    spdlog::critical("startup.failed reason=\"{}\"", port.error());
    return 1;
  }

  // Accounts. Built once the port is known: links in e-mails point back here.
  SystemClock clock;
  mail::Outbox outbox(**db, clock, !config.smtp.url.empty());
  std::unique_ptr<mail::SmtpSender> smtp;
  if (!config.smtp.url.empty()) {
    smtp = std::make_unique<mail::SmtpSender>(
        outbox, mail::SmtpOptions{config.smtp.url, config.smtp.from, config.smtp.username,
                                  config.smtp.password, config.smtp.starttls, 1000});
  }
  const std::string url = "http://" + url_host(config.listen) + ":" + std::to_string(*port) + "/";
  std::string public_url = config.accounts.public_url.empty() ? url : config.accounts.public_url;
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  // Password hashing (Argon2id, 19 MiB each) runs here, never on an event loop.
  WorkerPool workers(std::max<size_t>(2, config.threads), 512);
  auto options_of_accounts = account_options(config.accounts, public_url, policy.version);
  // Across the network (PostgreSQL), a session resolved is kept for a few seconds, and every
  // end of sessions is told to every node over the change feed (kSessionsChanged); in one
  // process SQLite answers in microseconds and nothing is kept.
  if (!config.database.url.empty()) options_of_accounts.session_cache_ms = 5'000;
  account::AccountService accounts(**db, outbox, clock, std::move(options_of_accounts), [&smtp] {
    if (smtp) smtp->wake();
  });
  accounts.set_on_sessions_changed(
      [&changes](const std::string& user_id) { (void)changes.publish(kSessionsChanged, user_id); });
  api::Guard guard(accounts);
  // The policy's history; a new major version is told to everyone by e-mail, once.
  account::PolicyLedger policy_ledger(**db, clock);
  if (policy_ledger.install(policy)) {
    const auto people = policy_ledger.addresses();
    for (const auto& to : people) {
      mail::Mail m;
      m.to = to;
      m.subject = "Our privacy policy has changed";
      m.body = "The privacy policy of " + public_url + " changed (version " + policy.version +
               "). You will be asked to accept it the next time you sign in; until then "
               "nothing changes for you.\n\nWhat changed:\n\n" +
               (policy.changes.empty() ? std::string("(no summary was given)\n") : policy.changes) +
               "\nRead it in full: " + public_url + "/privacy\n";
      (void)outbox.enqueue(m);
    }
    spdlog::info("policy.major_change version={} told={}", policy.version, people.size());
  }
  api::PolicyApi policy_api(policy, &policy_ledger);
  policy_api.install(router);
  // How often mail may be caused, per client address, account and destination.
  mail::MailRateLimiter mail_limits(clock);
  api::AuthApi auth_api(accounts, guard, workers, {config.accounts.secure_cookies}, mail_limits);
  auth_api.install(router);
  api::MeApi me_api(accounts, guard, workers);
  me_api.set_policy(&policy_ledger, policy.version);
  me_api.install(router);
  api::DemoApi demo_api(outbox, accounts, guard, clock, "demo@nightjar.local");
  std::optional<std::string> demo_login;
  demo_api.install(router, config.demo);
  if (config.demo) {
    auth_api.on_registered([&demo_api](const std::string& email, http::Response& answer) {
      demo_api.registered(email, answer);
    });
    demo_login = ensure_demo_account(accounts, data->path());
  }
  // Account anonymisation jobs, every second.
  Every jobs(std::chrono::seconds(1), [&accounts, &anonymising] {
    if (!anonymising()) return;
    if (auto r = accounts.run_jobs(); !r) spdlog::error("jobs.failed");
  });

  // The media plane: the hub and RTSP in and out.
  // Several nodes derive the same device secrets and pairing codes, and verify each other's
  // stream tokens: those keys are in the directory they share ([cluster] keys_dir).
  const std::filesystem::path shared_keys = config.cluster.keys_dir.empty()
                                                ? data->path() / "keys"
                                                : std::filesystem::path(config.cluster.keys_dir);
  auto stream_tokens = device::StreamTokens::open(shared_keys, clock);
  if (!stream_tokens) {
    spdlog::critical("startup.failed reason=\"{}\"", stream_tokens.error());
    return 1;
  }
  // The hub's lifecycle events reach on-demand streaming (made further down) through this,
  // so a camera's stream answers the viewer who woke it the moment it is published.
  struct PublishedSink {
    std::mutex mu;
    device::StreamDemand* demand = nullptr;
    recording::RecordingService* recorder = nullptr;  // a camera's backlog is recorded
  } published_sink;
  media::hub::Events hub_events;
  hub_events.published = [&published_sink](const std::string& path) {
    std::lock_guard lock(published_sink.mu);
    if (published_sink.demand) published_sink.demand->on_published(path);
    if (published_sink.recorder) published_sink.recorder->on_published(path);
  };
  media::hub::Hub hub({}, hub_events);
  // Live fMP4 is made once per stream for all its WebSocket viewers (and, later, HLS).
  hub.set_packager_factory(media::hub::Packaging::kLiveFmp4,
                           [] { return std::make_unique<media::fmp4::LivePackager>(); });
  // Who may do what with which device, and the open connections that hold such a right.
  auto device_secrets = device::SecretDeriver::open(shared_keys);
  if (!device_secrets) {
    spdlog::critical("startup.failed reason=\"{}\"", device_secrets.error());
    return 1;
  }
  device::DeviceRegistry devices(**db, *device_secrets, clock);
  TimeZones time_zones;  // the system's zoneinfo, for privacy schedules
  // Alone, no device is connected yet: their retained states bring them back. With other
  // nodes running, presence is theirs to keep (each keeps its cameras').
  if (const auto alive = cluster::alive_nodes(**db, std::chrono::seconds(5));
      std::none_of(alive.begin(), alive.end(), [&](const auto& n) { return n.id != node_id; })) {
    devices.mark_all_offline();
  }
  device::DeviceService device_service(**db, devices, clock);
  device::StreamAccess stream_access(*stream_tokens, devices, device_service);
  TokenAuthorizer rtsp_auth(stream_access, access_watch);
  // Two-way talk (issue #15): one line per camera, and the record of calls (never what was
  // said). Before the RTSP server, which serves talk/{serial} from it and goes first.
  talk::CallLog call_log(**db);
  // Privacy requests (policy item 37): due in 15 working days, the operator's holidays off.
  privacy::Requests privacy_requests(
      **db, clock,
      std::set<std::string>(config.privacy.holidays.begin(), config.privacy.holidays.end()));
  // The access transparency log (issue #16): a hash chain in the database, its checkpoints
  // signed with DIR/keys/audit-signing.key into DIR/audit/checkpoints, outside the database.
  auto audit_seed = device::load_or_create_key(data->path() / "keys", "audit-signing.key");
  if (!audit_seed) {
    spdlog::critical("startup.failed reason=\"audit key: {}\"", audit_seed.error());
    return 1;
  }
  // The keys that seal data at rest: outside the data directory (docs/keys.md).
  const auto key_dir = config.key_dir.empty() ? data->path().parent_path() /
                                                    (data->path().filename().string() + "-keys")
                                              : config.key_dir;
  auto key_store = keys::KeyStore::open(key_dir);
  if (!key_store) {
    spdlog::critical("startup.failed reason=\"keys: {}\"", key_store.error());
    return 1;
  }
  audit::Signer audit_signer(*audit_seed);
  audit::AuditLog audit_log(**db, clock, audit_signer, data->path() / "audit" / "checkpoints");
  audit::AccessRecorder access_recorder(
      audit_log, clock,
      [&devices](const audit::Access& a) -> std::optional<std::pair<std::string, int64_t>> {
        auto d = a.device_id.empty() ? devices.by_serial(a.serial) : devices.by_id(a.device_id);
        if (!d && !a.serial.empty()) d = devices.by_id(a.serial);  // a route's {id}
        if (!d) return std::nullopt;
        return std::make_pair(d->id, d->binding_generation);
      });
  talk::TalkService talk_service(clock, {},
                                 [&call_log](const talk::CallRecord& r) { call_log.add(r); });
  media::rtsp::Server rtsp(pool, hub, rtsp_auth, metrics, config.rtsp);
  rtsp.set_talk(&talk_service);
  auto rtsp_port = rtsp.listen(config.listen, config.rtsp_port);
  if (!rtsp_port) {
    spdlog::critical("startup.failed reason=\"{}\"", rtsp_port.error());
    return 1;
  }

  // The device plane: the registry, the broker (embedded: mosquitto as our child) and the
  // server's privileged link to it.
  std::unique_ptr<mqtt::EmbeddedBroker> broker;
  mqtt::ClientOptions broker_admin;
  uint16_t mqtt_port = config.mqtt.external_port;
  uint16_t mqtts_port = 0;      // the devices' TLS listener (embedded broker)
  std::string broker_cert_pem;  // its certificate, pinned by cameras
  if (config.mqtt.external_host.empty()) {
    mqtt::BrokerOptions options;
    options.dir = data->path() / "mqtt";
    options.listen = config.mqtt.listen.empty() ? config.listen : config.mqtt.listen;
    options.port = config.mqtt_port;
    options.admin_acls = device::server_acls();
    if (config.mqtt.device_logins != "dynsec") {
      options.devices_plugin = mqtt::devices_plugin_beside_program();
    }
    if (options.devices_plugin.empty() && config.mqtt.device_logins != "dynsec") {
      spdlog::warn(
          "mqtt.devices_plugin.missing reason=\"nightjar-devices.so is not beside the "
          "program: cameras are dynamic-security clients\"");
    }
    options.log_keep_days = config.log.keep_days;
    // Devices reach the broker over TLS with a certificate pinned in their QR payload.
    auto cert = ensure_broker_cert(data->path() / "keys");
    if (!cert) {
      spdlog::critical("startup.failed reason=\"broker certificate: {}\"", cert.error());
      return 1;
    }
    options.tls_cert = cert->cert;
    options.tls_key = cert->key;
    broker_cert_pem = cert->pem;
    auto started = mqtt::EmbeddedBroker::start(options);
    if (!started) {
      spdlog::critical("startup.failed reason=\"broker: {}\"", started.error());
      return 1;
    }
    broker = std::move(*started);
    broker_admin.host = broker->host() == "0.0.0.0" ? "127.0.0.1" : broker->host();
    broker_admin.port = broker->port();
    broker_admin.username = broker->admin_username();
    broker_admin.password = broker->admin_password();
    mqtt_port = broker->port();
    mqtts_port = broker->tls_port();
  } else {
    broker_admin.host = config.mqtt.external_host;
    broker_admin.port = config.mqtt.external_port;
    broker_admin.username = config.mqtt.admin_username;
    broker_admin.password = config.mqtt.admin_password;
  }
  // One per node: nodes sharing a broker under one id would take the connection from each
  // other.
  broker_admin.client_id = "nightjar-server-" + *instance + "-" + node_id;
  // The cameras' logins: in Nightjar's broker plugin, dynamic-security clients, or asked of
  // the nodes by the broker (the hook: nothing is provisioned).
  const bool devices_plugin =
      broker ? broker->devices_plugin() : config.mqtt.device_logins == "plugin";
  const bool logins_hook = !broker && config.mqtt.device_logins == "hook";
  std::optional<api::BrokerHookApi> broker_hook;
  if (logins_hook) {
    std::ifstream in(config.mqtt.hook_token_file);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    if (token.size() < 16) {
      spdlog::critical(
          "startup.failed reason=\"mqtt.hook_token_file: no token of 16 characters or more in "
          "{}\"",
          config.mqtt.hook_token_file);
      return 1;
    }
    broker_hook.emplace(
        std::move(token),
        [&devices](const std::string& serial) -> std::optional<api::BrokerHookApi::Camera> {
          auto d = devices.by_serial(serial);
          if (!d) return std::nullopt;
          return api::BrokerHookApi::Camera{devices.current_secret(*d), d->enabled};
        },
        metrics);
    broker_hook->install(router);
  }
  device::BrokerLink broker_link(
      devices, broker_admin, mqtt::connect,
      [&device_service](const std::string& serial, const std::string& token) -> std::string {
        auto bound = device_service.claim(serial, token);
        return bound ? std::string() : bound.error().message;
      },
      [&placement](const std::string& serial) { return placement.here(serial); }, devices_plugin);
  spdlog::info("mqtt.device_logins mode={}", logins_hook      ? "hook"
                                             : devices_plugin ? "plugin"
                                                              : "dynsec");
  // One node at a time provisions the devices on the shared broker (the leases outlive it);
  // none does when the broker asks through the hook.
  if (logins_hook) {
    broker_link.set_provisioner([] { return false; });
  } else {
    broker_link.set_provisioner(
        [provisioning = std::make_shared<Singleton>(
             singleton(short_leases, "broker-provisioning"))] { return (*provisioning)(); });
  }
  // What devices send that the protocol layer refuses, by message kind and reason.
  auto& device_rejects =
      metrics.counter("nightjar_device_input_rejected_total",
                      "Messages from devices refused as malformed or out of bounds (and dropped).",
                      {"kind", "reason"});
  broker_link.set_reject_handler([&device_rejects](device_protocol::MessageKind kind,
                                                   device_protocol::Reason reason) {
    device_rejects.with({device_protocol::kind_name(kind), device_protocol::reason_name(reason)})
        .inc();
  });
  const std::string public_host =
      config.mqtt.public_host.empty() ? url_host(config.listen) : config.mqtt.public_host;
  // This node among the others: alive while it beats, every second; gone at once when it
  // stops cleanly, within 5 s when it dies. Its first beat comes before anything streams or
  // records, so that a node joining takes only its own cameras.
  cluster::Nodes nodes(**db,
                       {node_id, "http://" + public_host + ":" + std::to_string(*port),
                        "rtsp://" + public_host + ":" + std::to_string(*rtsp_port), 0, 0, 0},
                       std::chrono::seconds(5));
  struct LeaveAtExit {  // after the heartbeat (further down) stops beating
    cluster::Nodes& nodes;
    ~LeaveAtExit() { nodes.leave(); }
  } leave_at_exit{nodes};
  if (nodes.beat()) {
    const auto alive = nodes.alive();
    (void)placement.update(alive);
    if (broker && alive.size() > 1) {
      // Each node's cameras would be on its own broker, out of reach of the node that holds
      // them: several nodes share one broker ([mqtt] external_host, `nightjar broker`).
      spdlog::error(
          "cluster.embedded_broker nodes={} reason=\"several nodes need one shared "
          "broker: set [mqtt] external_host\"",
          alive.size());
    }
  }
  device::StreamDemandOptions demand_options;
  demand_options.rtsp_base = "rtsp://" + public_host + ":" + std::to_string(*rtsp_port);
  demand_options.idle_grace = std::chrono::milliseconds(config.devices.idle_stream_grace_ms);
  auto& wake_seconds = metrics.histogram(
      "nightjar_stream_wake_seconds",
      "Waking an idle camera for a viewer: the whole (asking the device to answering) and the "
      "server's own part of it.",
      {"part"}, {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  demand_options.on_woken = [&server_part = wake_seconds.with({"server"}),
                             &total = wake_seconds.with({"total"})](auto server, auto whole) {
    server_part.observe(static_cast<double>(server.count()) / 1e6);
    total.observe(static_cast<double>(whole.count()) / 1e6);
  };
  // Several nodes (issue #17): a camera's stream lives on the node rendezvous hashing gives
  // it, which alone asks the camera to push and records it. A viewer on another node is
  // served through a relay: that node pulls the stream once from the holder over RTSP (an
  // operator's play token; the nodes share the key that signs them, [cluster] keys_dir) and
  // fans it out to its own viewers, whose access it checks itself, as for any stream.
  demand_options.elsewhere = [&placement](const std::string& serial) {
    const auto holder = placement.elsewhere(serial);
    return holder ? std::optional<std::string>(holder->rtsp_url) : std::nullopt;
  };
  demand_options.relay = [&pool, &hub, &devices, &tokens = *stream_tokens](
                             const std::string& serial,
                             const std::string& base) -> std::shared_ptr<void> {
    const auto device = devices.by_serial(serial);
    media::rtsp::PullOptions pull;
    pull.url =
        base + "/live/" + serial + "?token=" +
        device::operator_token(tokens, serial, device::StreamPurpose::kPlay,
                               device ? device->binding_generation : 0, int64_t{2} * 3600 * 1000);
    pull.path = "push/" + serial;
    pull.backoff = {std::chrono::milliseconds(200), std::chrono::milliseconds(1000)};
    return std::make_shared<media::rtsp::Puller>(pool, hub, std::move(pull));
  };
  demand_options.epoch = [&placement] { return placement.epoch(); };
  demand_options.ask_holder = [&changes](const std::string& serial) {
    (void)changes.publish(kStreamWanted, serial);
  };
  device::StreamDemand stream_demand(hub, broker_link, stream_access, demand_options);
  // A call asks the camera to listen: it plays talk/{serial} with a talk token (a minute to
  // use it).
  talk_service.set_starter(
      [&broker_link, &stream_access, base = demand_options.rtsp_base](
          const std::string& serial, std::function<void(std::optional<std::string>)> done) {
        const std::string url =
            base + "/talk/" + serial +
            "?token=" + stream_access.for_device(serial, device::StreamPurpose::kTalk, 60'000);
        broker_link.call(serial, "talk.start", {{"url", url}}, std::chrono::seconds(5),
                         [done = std::move(done)](const device::RpcResult& r) {
                           done(r ? std::nullopt : std::optional<std::string>(r.error().code));
                         });
      });
  struct UnhookTalk {  // before the link goes
    talk::TalkService& talk;
    ~UnhookTalk() { talk.set_starter({}); }
  } unhook_talk{talk_service};
  {
    std::lock_guard lock(published_sink.mu);
    published_sink.demand = &stream_demand;
  }
  // Unhooked before stream_demand goes (locals are destroyed in reverse order).
  struct Unhook {
    PublishedSink& sink;
    ~Unhook() {
      std::lock_guard lock(sink.mu);
      sink.demand = nullptr;
    }
  } unhook_demand{published_sink};
  api::DevicesApi devices_api(
      device_service, devices, broker_link, stream_demand, stream_access, guard, clock, mail_limits,
      time_zones,
      {public_url, "mqtt://" + public_host + ":" + std::to_string(mqtt_port),
       demand_options.rtsp_base,
       mqtts_port != 0 ? "mqtts://" + public_host + ":" + std::to_string(mqtts_port) : "",
       broker_cert_pem});
  devices_api.set_trail(access_recorder.trail());
  devices_api.install(router);

  // Live view, HLS and snapshots: for a signed-in person with a role on the device, checked
  // on every request; or with a play token.
  api::MediaAccess media_access(
      stream_access,
      [&guard, &device_service](const http::Request& request,
                                const std::string& id) -> std::optional<api::MediaAccess::Grant> {
        auto who = guard.identify(request);
        if (!who) return std::nullopt;
        auto owned = device_service.get(who->user_id, id);
        if (!owned) return std::nullopt;
        return api::MediaAccess::Grant{owned->device.serial, {},
                                       who->user_id,         who->user_id,
                                       owned->role,          owned->device.binding_generation,
                                       who->session_id};
      });
  api::LiveApi live_api(hub, media_access, access_watch, metrics);
  live_api.set_trail(access_recorder.trail());
  live_api.install(router);
  api::TalkApi talk_api(
      talk_service, call_log, media_access, access_watch,
      [&accounts](const std::string& user_id) {
        auto p = accounts.profile(account::Principal{user_id, "", "", ""});
        return p ? p->email : std::string();
      },
      [&devices](const std::string& serial) -> std::optional<http::Response> {
        auto d = devices.by_serial(serial);
        if (d && d->privacy_mode()) {
          return http::error_response(409, "privacy_mode", "the camera is in privacy mode");
        }
        if (!d || !d->online) {
          return http::error_response(409, "device_offline", "the camera is offline");
        }
        return std::nullopt;
      },
      metrics);
  talk_api.set_trail(access_recorder.trail());
  talk_api.install(router);
  // Invitations to a shared camera go out as mail (the outbox, or SMTP when configured).
  device_service.set_invite_notifier(
      [&outbox, &smtp, public_url](const std::string& email, const std::string& device_name,
                                   const std::string& from, device::Role role) {
        mail::Mail m;
        m.to = email;
        m.subject = "A camera was shared with you";
        m.body = from + " shared the camera \"" + device_name + "\" with you as " +
                 std::string(device::role_name(role)) +
                 ". Sign in with this address to accept: " + public_url + "/shares\n";
        (void)outbox.enqueue(m);
        if (smtp) smtp->wake();
      });
  api::HlsApi hls_api(hub, media_access, metrics);
  hls_api.set_trail(access_recorder.trail());
  hls_api.install(router);
  api::SnapshotApi snapshot_api(hub, media_access, workers, metrics);
  snapshot_api.set_trail(access_recorder.trail());
  snapshot_api.install(router);
  // The last picture of an idle camera, for its list tile; never in privacy mode.
  snapshot_api.set_may_show_last([&devices](const std::string& serial) {
    auto d = devices.by_serial(serial);
    return d && d->owner_id && !d->privacy_mode();
  });

  // Cloud recording (docs/recording.md): what a crash left is recovered before anything is
  // written; then the devices with a plan in force are recorded.
  // Data regions (policy item 36): each account's media, pictures and exports only under its
  // region's root; the default region's root is the data directory.
  std::vector<privacy::Region> region_list{
      {config.recording.region, config.recording.region, data->path()}};
  for (const auto& r : config.regions) {
    if (r.id == config.recording.region) {
      region_list.front().name = r.name;
      if (!r.root.empty()) {
        spdlog::critical(
            "startup.failed reason=\"the default region ({}) is rooted in the data directory; "
            "give regions.{}.root no value\"",
            r.id, r.id);
        return 1;
      }
    } else {
      region_list.push_back({r.id, r.name, r.root});
    }
  }
  auto regions = privacy::Regions::make(**db, clock, std::move(region_list));
  if (!regions) {
    spdlog::critical("startup.failed reason=\"regions: {}\"", regions.error());
    return 1;
  }
  auth_api.set_regions(regions->get());
  // Each region's media: files under its root, or its S3 bucket ([storage], issue #17).
  std::map<std::string, std::unique_ptr<recording::Store>> media_stores;
  // Event pictures and data exports go to a region's bucket too, under "{prefix}pictures/"
  // and "{prefix}exports/" (files otherwise).
  std::map<std::string, std::unique_ptr<recording::Store>> picture_stores, export_stores;
  bool media_shared = true;  // every region's media in a bucket every node reaches
  for (const auto& r : (*regions)->all()) {
    const StorageConfig* storage = r.id == config.recording.region ? &config.storage : nullptr;
    for (const auto& declared : config.regions) {
      if (declared.id == r.id && !declared.storage.endpoint.empty()) storage = &declared.storage;
    }
    if (!storage || storage->endpoint.empty()) {
      media_stores[r.id] = std::make_unique<recording::LocalStore>(r.root / "media");
      media_shared = false;
      continue;
    }
    auto credentials = s3::credentials_from(storage->key_file);
    if (!credentials) {
      spdlog::critical("startup.failed reason=\"region {}: {}\"", r.id, credentials.error());
      return 1;
    }
    auto client = std::make_shared<s3::Client>(s3::Config{
        storage->endpoint, storage->bucket, storage->region, *credentials, storage->timeout_ms});
    // Reached now, so a wrong endpoint, bucket or key stops the start with a clear reason.
    if (auto reached = client->list(storage->prefix + "-"); !reached) {
      spdlog::critical("startup.failed reason=\"region {}: {}\"", r.id, reached.error());
      return 1;
    }
    spdlog::info("storage.s3 region={} endpoint={} bucket={}", r.id,
                 without_userinfo(storage->endpoint), storage->bucket);
    picture_stores[r.id] =
        std::make_unique<recording::S3Store>(client, storage->prefix + "pictures/", 0);
    export_stores[r.id] =
        std::make_unique<recording::S3Store>(client, storage->prefix + "exports/", 0);
    media_stores[r.id] = std::make_unique<recording::S3Store>(std::move(client), storage->prefix);
  }
  recording::RegionalStore media_store(std::move(media_stores), (*regions)->default_region().id);
  recording::Catalog catalog(**db, node_id);
  recording::Plans plans(**db, clock);
  // Recordings are sealed with their camera's binding key (docs/keys.md).
  const recording::KeyLookup segment_keys =
      [&key_store, &devices](const std::string& device_id,
                             bool create) -> std::optional<recording::BindingKey> {
    auto d = devices.by_id(device_id);
    if (!d || !d->owner_id) return std::nullopt;
    auto key = (*key_store)->binding_key(*d->owner_id, d->id, d->binding_generation, create);
    if (!key) return std::nullopt;
    return recording::BindingKey{d->binding_generation, *key};
  };
  {
    // Several nodes: this node's segments and those of nodes gone; never one being written.
    std::set<std::string> others;
    for (const auto& n : nodes.alive()) {
      if (n.id != node_id) others.insert(n.id);
    }
    const auto recovered = recording::recover(
        media_store, catalog, segment_keys,
        {[&others](const std::string& writer) { return !others.contains(writer); },
         others.empty()});
    spdlog::info(
        "recording.recovered segments={} fragments={} rows_dropped={} orphans={} bytes_cut={}",
        recovered.segments, recovered.fragments_found, recovered.rows_dropped,
        recovered.orphans_removed, recovered.bytes_cut);
  }
  // A node that died left its segments open; with the media in a shared bucket, one of the
  // others finishes them (whole fragments kept, the partial tail cut, the rows closed). With
  // files, only the node itself can, when it comes back. Only once it has been silent for
  // 30 s: by then its cameras push elsewhere, so a node that was only cut off from the
  // database for a while has nothing left to write into a segment finished under it.
  auto dead_segments_lease = singleton(short_leases, "dead-node-segments");
  Every dead_node_segments(std::chrono::seconds(5), [&, media_shared] {
    if (!media_shared || !dead_segments_lease()) return;
    std::set<std::string> alive;
    for (const auto& n : cluster::alive_nodes(**db, std::chrono::seconds(30))) alive.insert(n.id);
    if (alive.empty()) return;  // the database could not be read: nobody is known dead
    const auto writers = catalog.open_writers();
    if (std::none_of(writers.begin(), writers.end(),
                     [&](const std::string& w) { return !w.empty() && !alive.contains(w); })) {
      return;
    }
    const auto recovered = recording::recover(
        media_store, catalog, segment_keys,
        {[&alive](const std::string& writer) { return !writer.empty() && !alive.contains(writer); },
         false});
    if (recovered.segments > 0) {
      spdlog::info("recording.recovered_for_dead_nodes segments={} fragments={} rows_dropped={}",
                   recovered.segments, recovered.fragments_found, recovered.rows_dropped);
    }
  });
  recording::RecorderOptions recorder_options;
  recorder_options.region = config.recording.region;
  recorder_options.segment_length = std::chrono::minutes(config.recording.segment_minutes);
  recorder_options.sync = config.recording.sync;
  recorder_options.reserve_bytes = static_cast<uint64_t>(config.recording.reserve_mb) << 20;
  recorder_options.keys = segment_keys;
  recording::RecordingService recorder(hub, media_store, catalog, recorder_options);
  {
    std::lock_guard lock(published_sink.mu);
    published_sink.recorder = &recorder;
  }
  struct UnhookRecorder {  // before the recorder goes
    PublishedSink& sink;
    ~UnhookRecorder() {
      std::lock_guard lock(sink.mu);
      sink.recorder = nullptr;
    }
  } unhook_recorder{published_sink};
  // Events (issue #14): the cameras' reports and what the server sees of them (offline,
  // privacy mode) become events with a picture; grouped and bounded per camera.
  events::EventStore event_store(**db);
  // Pictures sealed with their camera's binding key (docs/keys.md).
  events::SnapshotFiles event_files(
      data->path() / "events" / config.recording.region,
      [&key_store, &devices](std::string_view device_id, bool create) -> std::optional<keys::Key> {
        auto d = devices.by_id(device_id);
        if (!d || !d->owner_id) return std::nullopt;
        return (*key_store)->binding_key(*d->owner_id, d->id, d->binding_generation, create);
      });
  event_files.set_dir_for([&regions](std::string_view device_id) {
    const auto region = (*regions)->of_device(device_id);
    return (*regions)->root(region) / "events" / region;
  });
  event_files.set_store_for(
      [&regions, &picture_stores](std::string_view device_id) -> recording::Store* {
        const auto it = picture_stores.find((*regions)->of_device(device_id));
        return it == picture_stores.end() ? nullptr : it->second.get();
      });
  events::EventServiceOptions event_options;
  event_options.group_ms = config.events.group_seconds * 1000;
  events::EventService event_service(
      event_store, event_files, clock,
      [&devices](const std::string& serial) {
        auto d = devices.by_serial(serial);
        return d && d->owner_id ? std::optional<std::string>(d->id) : std::nullopt;
      },
      event_options);
  event_service.close_left_open();
  events::HubSnapshotTaker event_pictures(
      hub, workers, [&stream_demand](const std::string& serial) {
        stream_demand.start(serial, [](std::optional<device::RpcError>) {});
      });
  // A camera that is not streaming is asked for its own picture first (event.snapshot: it
  // uploads a JPEG with its credentials); one that cannot is woken and pictured from its stream.
  events::CameraSnapshotTaker camera_pictures(
      event_pictures,
      [&hub](const std::string& serial) { return hub.is_published("push/" + serial); },
      [&broker_link, public_url](const std::string& serial, const std::string& event_id,
                                 events::CameraSnapshotTaker::Answer answer) {
        broker_link.call(
            serial, "event.snapshot",
            {{"event_id", event_id},
             {"url", public_url + "/api/v1/device/events/" + event_id + "/snapshot.jpg"}},
            std::chrono::seconds(5),
            [answer = std::move(answer), serial](const device::RpcResult& result) {
              if (!result) {
                spdlog::info("event.snapshot_asked serial={} answer={}", serial,
                             result.error().code);
              }
              answer(result && result->value("accepted", false));
            });
      });
  event_service.set_snapshot_taker(&camera_pictures);
  Every camera_picture_ticks(std::chrono::seconds(1),
                             [&camera_pictures] { camera_pictures.tick(); });
  auto& event_outcomes = metrics.counter("nightjar_device_events_total",
                                         "Camera event reports, by what they became.", {"outcome"});
  // The cameras' events (motion) reach the recorders of events-only plans, timed on arrival,
  // and the event service.
  // The owner's mode says whether events are recorded (their switch per camera and mode).
  notify::Preferences notify_prefs(**db);
  notify::RecordGate record_gate(
      notify_prefs,
      [&devices](const std::string& serial) -> std::optional<notify::RecordGate::Binding> {
        auto d = devices.by_serial(serial);
        if (!d || !d->owner_id) return std::nullopt;
        return notify::RecordGate::Binding{*d->owner_id, d->id};
      });
  // What a camera reported, or the server's own detection saw for it.
  const auto device_reported = [&recorder, &clock, &event_service, &event_outcomes, &record_gate](
                                   const std::string& serial, std::string_view kind, bool active,
                                   double score, const std::vector<std::string>& zones) {
    spdlog::debug("device.event serial={} kind={} active={}", serial, kind, active);
    // An end always passes (it closes a window already open); a start only if recorded now.
    if (!active || record_gate.allows(serial)) recorder.event(serial, clock.now_ms(), active);
    const auto outcome = event_service.report(serial, kind, active, score, zones);
    event_outcomes.with({std::string(events::outcome_name(outcome))}).inc();
  };
  broker_link.set_event_handler(
      [device_reported](const std::string& serial, const device::DeviceEvent& event) {
        device_reported(serial, event.kind, event.active, event.score, event.zones);
      });
  broker_link.set_state_handler(
      [&event_service, &devices, &talk_service](const std::string& serial,
                                                const device_protocol::StateReport& state) {
        auto d = devices.by_serial(serial);
        event_service.state(serial, state.online, d && d->privacy_mode());
        // Privacy mode on, or gone: whoever talks through the camera is cut off.
        if (!state.online || (d && d->privacy_mode())) talk_service.end(serial);
      });
  // A card that reports anything but "ok" is failing: an sd_card event while it lasts.
  broker_link.set_sd_handler(
      [&event_service](const std::string& serial, const device_protocol::SdCardState& sd) {
        event_service.condition(serial, events::Kind::kSdCard, sd.health != "ok");
      });
  struct UnhookEvents {  // before the recorder and the event service go
    device::BrokerLink& link;
    ~UnhookEvents() {
      link.set_event_handler({});
      link.set_state_handler({});
      link.set_sd_handler({});
    }
  } unhook_events{broker_link};
  Every event_ticks(std::chrono::seconds(2), [&event_service] { event_service.tick(); });
  // Server-side detection for cameras that cannot detect: the owner turns it on per camera;
  // those cameras are kept streaming, and what is seen is reported as a camera's reports are.
  detect::SettingsStore detection_settings(**db);
  detect::DetectionService detection(
      hub,
      [&detection_settings, &placement] {
        // Several nodes: a camera is watched where its stream lives.
        auto enabled = detection_settings.enabled();
        std::erase_if(enabled, [&](const auto& e) { return !placement.here(e.first); });
        return enabled;
      },
      [&stream_demand](std::set<std::string> serials) {
        stream_demand.set_kept_on("detection", std::move(serials));
      },
      [device_reported](const std::string& serial, std::string_view kind, bool active, double score,
                        const std::vector<std::string>& zones) {
        device_reported(serial, kind, active, score, zones);
      });
  auto& detection_share =
      metrics
          .gauge("nightjar_detection_core_share",
                 "The share of one core server-side detection used over the last 10 s.")
          .with({});
  auto& detection_cameras =
      metrics.gauge("nightjar_detection_cameras", "Cameras watched by server-side detection.")
          .with({});
  Every detection_gauges(std::chrono::seconds(5),
                         [&detection, &detection_share, &detection_cameras] {
                           const auto s = detection.stats();
                           detection_share.set(s.busy_share);
                           detection_cameras.set(static_cast<double>(s.cameras));
                         });

  // Notifications (issue #14): each new event to the people who want it, on the channels
  // they consented to (privacy::ConsentLedger, read at every sending).
  privacy::ConsentLedger consents(**db, clock);
  notify::InAppChannel in_app;
  notify::NotificationEngine notifications(
      notify_prefs, consents, time_zones, clock,
      [&device_service](const std::string& device_id) {
        return device_service.people_of(device_id);
      },
      [&devices](const std::string& device_id) {
        auto d = devices.by_id(device_id);
        return d ? d->name : std::string();
      },
      [&accounts](const std::string& user_id) {
        auto p = accounts.profile(account::Principal{user_id, "", "", ""});
        return p ? p->language : std::string("en");
      });
  notifications.add_channel(&in_app);
  // Web Push: the server's VAPID key is made once and kept with the broker's in DIR/keys.
  std::error_code keys_ec;
  std::filesystem::create_directories(data->path() / "keys", keys_ec);
  auto vapid = notify::webpush::VapidKey::load_or_create(data->path() / "keys" / "vapid.pem");
  if (!vapid) {
    spdlog::error("push.vapid_key error=\"{}\"", vapid.error());
    return 1;
  }
  notify::PushSubscriptions push_subscriptions(**db, clock);
  auto push_poster = notify::curl_poster();
  notify::PushOptions push_options;
  push_options.subject =
      config.notify.vapid_subject.empty() ? public_url : config.notify.vapid_subject;
  push_options.targets.hosts = config.notify.push_hosts;
  push_options.targets.allow_http = config.notify.push_allow_http;
  push_options.senders = static_cast<size_t>(config.notify.push_senders);
  notify::PushChannel push(push_subscriptions, *vapid, *push_poster, clock, push_options);
  auto& push_seconds = metrics.histogram(
      "nightjar_notification_push_seconds",
      "From deciding to notify to the push service's answer, by its status class.", {"status"},
      {0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 10});
  push.set_observer([&push_seconds](int status, int64_t us) {
    const std::string cls = status == 0 ? "none" : std::to_string(status / 100) + "xx";
    push_seconds.with({cls}).observe(static_cast<double>(us) / 1e6);
  });
  notifications.add_channel(&push);
  // Webhooks, e-mail and home-automation MQTT: secrets for the first and the last are derived
  // from the notify key (DIR/keys/notify.key), never stored.
  auto notify_key = device::load_or_create_key(data->path() / "keys", "notify.key");
  if (!notify_key) {
    spdlog::error("notify.key error=\"{}\"", notify_key.error());
    return 1;
  }
  notify::ActionTokens action_tokens(*notify_key, clock);
  notifications.set_snooze_minter(
      [&action_tokens](const std::string& user_id, const std::string& device_id) {
        return action_tokens.snooze(user_id, device_id);
      });
  notify::WebhookStore webhooks(**db, clock, *notify_key);
  auto webhook_poster =
      notify::curl_poster({5'000, /*public_only=*/!config.notify.webhook_allow_private});
  notify::WebhookChannel webhook_channel(
      webhooks, *webhook_poster, clock,
      {config.notify.webhook_first_retry_ms, static_cast<size_t>(config.notify.webhook_attempts),
       1000});
  notifications.add_channel(&webhook_channel);
  webhook_channel.resume();  // deliveries a stop interrupted go on
  notify::EmailChannel email_channel(
      outbox,
      [&smtp] {
        if (smtp) smtp->wake();
      },
      [&accounts](const std::string& user_id) {
        auto p = accounts.profile(account::Principal{user_id, "", "", ""});
        return p && p->email_verified ? p->email : std::string();
      },
      public_url, clock, static_cast<int>(config.notify.email_per_hour));
  notifications.add_channel(&email_channel);
  notify::HomeMqtt home_mqtt(
      **db, clock, consents, *notify_key,
      [&broker_link](const std::string& topic, const std::string& payload, bool retain) {
        broker_link.publish(topic, payload, retain);
      },
      [&broker_link](const std::vector<nlohmann::json>& commands) {
        broker_link.control(commands);
      },
      [&device_service](const std::string& user_id) {
        std::vector<notify::HomeCamera> cameras;
        for (const auto& d : device_service.list(user_id)) {
          if (d.role < device::Role::kFamily) continue;
          cameras.push_back({d.device.id, d.device.name, d.device.model});
        }
        return cameras;
      });
  notifications.add_channel(&home_mqtt);
  consents.add_listener(
      [&home_mqtt](const std::string& user_id, std::string_view purpose, bool granted) {
        if (purpose == privacy::kNotifyMqtt) home_mqtt.consent_changed(user_id, granted);
      });
  // What another node ended, ended here too (a node hears its own changes as well: ending
  // twice ends nothing more). After the feed was away, every connection held here is
  // checked again against the rights as they are now.
  changes.on_change([&access_watch, &placement, &stream_demand, &key_store, &hub, &accounts](
                        std::string_view topic, std::string_view payload) {
    if (topic == kSessionsChanged) {
      if (!payload.empty()) accounts.forget_sessions(std::string(payload));
      return;
    }
    if (topic == kStreamWanted) {
      // Another node relays this camera: if its stream lives here, it is started here.
      const std::string serial(payload);
      if (!placement.here(serial)) return;
      stream_demand.start(serial, [serial](std::optional<device::RpcError> error) {
        if (error) {
          spdlog::warn("device.stream.wanted serial={} error=\"{}\"", serial, error->message);
        }
      });
      return;
    }
    const auto space = payload.find(' ');
    if (topic == kAccessEnded && space != std::string_view::npos) {
      access_watch.end_for(std::string(payload.substr(0, space)),
                           std::string(payload.substr(space + 1)));
    } else if (topic == kDeviceEnded) {
      const std::string serial(payload);
      access_watch.end_device(serial);
      // A relay of it here goes too (the node that ended it has done this already).
      stream_demand.forget(serial);
      hub.evict("push/" + serial);
      (*key_store)->forget_cached();  // its keys were destroyed (by whichever node)
    } else if (topic == kAccountEnded) {
      access_watch.end_subject(std::string(payload));
      (*key_store)->forget_cached();
    }
  });
  changes.on_resync([&access_watch, &device_service, &accounts] {
    accounts.forget_sessions("");  // ends of sessions may have been missed: all read afresh
    size_t ended = 0;
    for (const auto& [serial, subject] : access_watch.held()) {
      if (subject.empty() || subject == device::kDeviceSubject ||
          subject == device::kOperatorSubject) {
        continue;  // bindings are checked by generation every second (BindingSweep)
      }
      if (!device_service.role_by_serial(subject, serial)) {
        ended += access_watch.end_for(serial, subject);
      }
    }
    spdlog::warn("changes.resync ended={}", ended);
  });
  struct UnhookChanges {  // before what its listeners name goes
    store::ChangeFeed& feed;
    ~UnhookChanges() {
      feed.on_change({});
      feed.on_resync({});
    }
  } unhook_changes{changes};
  // A share revoked or left: what that person has open on the camera closes at once, on
  // every node, and its home-automation sensors are taken back; a share accepted: they are
  // announced.
  devices_api.on_access_revoked(
      [&access_watch, &home_mqtt, &changes](const std::string& serial, const std::string& user_id) {
        access_watch.end_for(serial, user_id);
        changes.publish(kAccessEnded, serial + " " + user_id);
        home_mqtt.refresh(user_id);
      });
  devices_api.on_access_granted(
      [&home_mqtt](const std::string& user_id) { home_mqtt.refresh(user_id); });
  broker_link.set_full_sync_handler([&home_mqtt] { home_mqtt.provision(); });
  // The broker's state starts empty at every start, and the link's first full sync may
  // have run before the handler was set: the logins are given now too (again is harmless).
  home_mqtt.provision();
  struct UnhookHome {  // before the channel goes
    device::BrokerLink& link;
    ~UnhookHome() { link.set_full_sync_handler({}); }
  } unhook_home{broker_link};
  auto& notify_outcomes = metrics.counter(
      "nightjar_notifications_total",
      "Notification decisions: sent per channel, or why a person was not told.", {"outcome"});
  notifications.set_counter([&notify_outcomes](std::string_view outcome) {
    notify_outcomes.with({std::string(outcome)}).inc();
  });
  auto& in_app_latency =
      metrics.histogram("nightjar_notification_in_app_seconds",
                        "From deciding to notify to the message handed to the person's open tabs.",
                        {}, {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1});
  in_app.set_latency(
      [&h = in_app_latency.with({})](int64_t us) { h.observe(static_cast<double>(us) / 1e6); });
  event_service.add_listener(
      [&notifications](const events::Event& e, events::EventService::Change change) {
        if (change == events::EventService::Change::kStarted) notifications.on_event(e);
      });
  struct UnhookNotifications {  // before the engine goes
    events::EventService& events;
    ~UnhookNotifications() { events.clear_listeners(); }
  } unhook_notifications{event_service};
  Every notify_ticks(std::chrono::seconds(1), [&notifications] { notifications.tick(); });
  // Modes that follow a schedule change at its edges, checked every two seconds.
  notify::ArmingScheduler arming(notify_prefs, time_zones, clock);
  Every arming_ticks(std::chrono::seconds(2), [&arming] { arming.tick(); });
  RecordingJobs recording_jobs(
      plans, recorder, stream_demand, catalog, media_store, clock,
      {metrics.gauge("nightjar_recorders", "Cameras being recorded.").with({}),
       metrics.gauge("nightjar_recorders_paused", "Recorders paused: the store is full or failed.")
           .with({}),
       metrics.gauge("nightjar_recording_write_errors", "Failed writes of recording fragments.")
           .with({}),
       metrics.gauge("nightjar_recorded_bytes", "Bytes recorded by the running recorders.")
           .with({})},
      // A camera whose recording paused for lack of space: a storage_full event while it lasts.
      [&event_service](const std::string& serial, bool full) {
        event_service.condition(serial, events::Kind::kStorageFull, full);
      },
      [&regions](const std::string& device_id) { return (*regions)->of_device(device_id); },
      [&placement](const std::string& serial) { return placement.here(serial); });
  recording_jobs.set_periodic_reap([&recording_reaper_lease] { return recording_reaper_lease(); });
  // Unbinding ends the device's recording plan, and its media go at once: a camera that
  // changes hands shows its next owner nothing of the last one's.
  // Everything that ends with a binding, at once: the camera's credentials and streams,
  // every connection open on it (by anyone, session or token), its plan and its media.
  const auto binding_ended = [&broker_link, &stream_demand, &hub, &access_watch, &changes, &plans,
                              &recording_jobs, &devices, &snapshot_api, &event_service,
                              &notify_prefs, &home_mqtt, &detection_settings, &detection, &call_log,
                              &talk_service, &key_store](const std::string& serial) {
    // The camera erases its card when it hears it is nobody's (or, if it missed this, when
    // it next hears it is someone else's): said before its credentials go.
    broker_link.announce_binding(serial);
    broker_link.set_enabled(serial, false);
    stream_demand.forget(serial);
    hub.evict("push/" + serial);
    hub.evict("sd/" + serial);
    access_watch.end_device(serial);
    changes.publish(kDeviceEnded, serial);
    plans.revoke(serial);
    recording_jobs.reap_now();
    if (auto d = devices.by_serial(serial)) {
      // Its key goes first, before the unbind returns: its pictures are unreadable from this
      // moment, in every copy; the files themselves are deleted just after.
      (*key_store)->destroy_device(d->id);
      devices.forget_privacy_periods(d->id);
      devices.forget_traffic(d->id);
      event_service.forget(serial, d->id);
      notify_prefs.forget_device(d->id);
      home_mqtt.forget_device(d->id);
      detection_settings.forget(d->id);
      call_log.forget_device(d->id);
      detection.refresh();
    }
    snapshot_api.forget(serial);
    talk_service.end(serial);
  };
  devices_api.on_unbound(binding_ended);
  devices_api.set_has_picture(
      [&snapshot_api](const std::string& serial) { return snapshot_api.has_picture(serial); });
  // A cancelled account: its cameras are unbound as above, its shares of others' end.
  // The person's data export: built by a background job, downloadable for a day.
  privacy::Exports exports(
      **db, clock, data->path() / "exports",
      [&event_files](const std::string& device_id, const std::string& event_id) {
        return event_files.read(device_id, event_id);
      },
      [&outbox, &smtp, &accounts, public_url](const std::string& user_id) {
        auto p = accounts.profile(account::Principal{user_id, "", "", ""});
        if (!p) return;
        (void)outbox.enqueue({p->email, "Your data is ready to download",
                              "The copy of your data you asked for is ready. It can be "
                              "downloaded for a day from " +
                                  public_url + "/account/privacy\n"});
        if (smtp) smtp->wake();
      });
  exports.set_keys((*key_store).get());
  // Recordings in an export, when asked for: each closed segment of the camera, as the plain
  // MP4 it plays as, read through its seal.
  exports.set_recordings([&catalog, &media_store, &segment_keys](const std::string& device_id) {
    std::vector<privacy::Exports::RecordingFile> out;
    for (const auto& brief : catalog.of_device(device_id)) {
      if (brief.open) continue;
      auto s = catalog.by_id(brief.id);
      if (!s || s->fragments.empty()) continue;
      auto reader = recording::open_segment(media_store, *s, segment_keys);
      if (!reader->read(0, 1)) continue;  // its key is gone: it exists for no one
      out.push_back({"recordings/" + device_id + "/" + std::to_string(s->start_ms) + "-" +
                         std::to_string(s->id) + ".mp4",
                     reader->size(),
                     [reader](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
                       auto bytes = reader->read(at, n);
                       if (!bytes) return std::nullopt;
                       return std::move(*bytes);
                     }});
    }
    return out;
  });
  exports.set_dir_for([&regions](std::string_view user_id) {
    return (*regions)->root((*regions)->of_user(user_id)) / "exports";
  });
  exports.set_store_for([&regions, &export_stores](std::string_view user_id) -> recording::Store* {
    const auto it = export_stores.find((*regions)->of_user(user_id));
    return it == export_stores.end() ? nullptr : it->second.get();
  });
  accounts.set_on_cancelled([&device_service, &access_watch, &changes, &push_subscriptions,
                             &event_store, &webhooks, &home_mqtt, &call_log, &audit_log, &key_store,
                             &privacy_requests, &exports,
                             binding_ended](const std::string& user_id) {
    const size_t unbound = device_service.end_everything_of(
        user_id, binding_ended, [&access_watch, &changes, &user_id](const std::string& serial) {
          access_watch.end_for(serial, user_id);
          changes.publish(kAccessEnded, serial + " " + user_id);
        });
    access_watch.end_subject(user_id);
    changes.publish(kAccountEnded, user_id);
    // Nothing more reaches their browsers, and what read state they had goes.
    push_subscriptions.forget_user(user_id);
    webhooks.forget_user(user_id);
    home_mqtt.disable(user_id);
    call_log.forget_user(user_id);
    audit_log.forget_user(user_id);
    (*key_store)->destroy_account(user_id);
    privacy_requests.forget_user(user_id);
    exports.forget_user(user_id);
    event_store.forget_reader(user_id);
    spdlog::info("account.devices_released user={} unbound={}", user_id, unbound);
  });
  struct UnhookCancel {  // before what it names goes
    account::AccountService& accounts;
    ~UnhookCancel() { accounts.set_on_cancelled({}); }
  } unhook_cancel{accounts};
  // Bindings changed outside this process (`nightjar admin device unbind`), every second.
  device::BindingSweep binding_sweep(devices, access_watch, binding_ended);
  Every sweeping(std::chrono::seconds(1), [&binding_sweep] { binding_sweep.tick(); });
  // The chain's head is signed once a minute if it moved (and every 1,000 rows), and at exit.
  Every audit_checkpoints(std::chrono::seconds(60), [&audit_log] { audit_log.checkpoint(); });
  struct SignAtExit {
    audit::AuditLog& log;
    ~SignAtExit() { log.checkpoint(); }
  } sign_at_exit{audit_log};
  // Privacy schedules: each camera's privacy mode turned on and off at the edges of its
  // schedule, in its owner's time zone, checked every two seconds.
  device::PrivacyScheduler privacy_scheduler(
      devices, time_zones, clock,
      [&broker_link, &devices](const std::string& serial, bool privacy,
                               device::PrivacyScheduler::Done done) {
        device_protocol::CameraSettings change;
        change.privacy_mode = privacy;
        device::change_settings(
            broker_link, devices, serial, change,
            [serial, privacy, done = std::move(done)](const device::RpcResult& result) {
              spdlog::info("privacy.schedule serial={} privacy_mode={} applied={}", serial, privacy,
                           result.has_value());
              done(result.has_value());
            });
      });
  Every scheduling(std::chrono::seconds(2), [&privacy_scheduler] { privacy_scheduler.tick(); });
  api::RecordingsApi recordings_api(device_service, guard, catalog, media_store, segment_keys,
                                    plans, clock);
  recordings_api.set_recorder_status(
      [&recorder](const std::string& device_id) -> std::optional<recording::RecorderStats> {
        const auto all = recorder.stats();
        const auto it = all.find(device_id);
        if (it == all.end()) return std::nullopt;
        return it->second;
      });
  recordings_api.set_trail(access_recorder.trail());
  recordings_api.install(router);
  api::AccessLogApi access_log_api(guard, device_service, audit_log);
  access_log_api.install(router);
  api::PrivacyRequestsApi privacy_requests_api(guard, privacy_requests);
  privacy_requests_api.install(router);
  api::ExportApi export_api(guard, exports);
  export_api.install(router);
  Every exporting(std::chrono::seconds(1), [&exports, &exporting_lease] {
    if (!exporting_lease()) return;
    while (exports.run_next()) {
    }
    exports.expire();
  });
  // Data regions: the list to choose from, the person's moves, and the job that carries a
  // moved person's data over.
  api::RegionsApi regions_api(guard, **regions);
  regions_api.install(router);
  Every broker_log_pruning(std::chrono::hours(1), [&broker] {
    if (broker) broker->prune_log();
  });
  RegionMover region_mover(**db, **regions, catalog, media_store);
  {
    std::map<std::string, recording::Store*> pictures_in_buckets;
    for (const auto& [region, store] : picture_stores) pictures_in_buckets[region] = store.get();
    region_mover.set_picture_stores(std::move(pictures_in_buckets));
    std::map<std::string, recording::Store*> exports_in_buckets;
    for (const auto& [region, store] : export_stores) exports_in_buckets[region] = store.get();
    region_mover.set_export_stores(std::move(exports_in_buckets));
  }
  Every region_moves(std::chrono::seconds(2), [&region_mover, &moving_lease] {
    if (moving_lease()) region_mover.step();
  });
  api::EventsApi events_api(device_service, guard, event_store, event_files, clock);
  events_api.set_trail(access_recorder.trail());
  events_api.install(router);
  api::DetectionApi detection_api(guard, device_service, detection_settings,
                                  [&detection] { detection.refresh(); });
  detection_api.install(router);
  api::NotificationsApi notifications_api(guard, accounts, device_service, access_watch, in_app,
                                          notify_prefs, consents, time_zones, clock,
                                          policy.version);
  notifications_api.set_push(&push_subscriptions, vapid->public_key(), push_options.targets);
  notifications_api.set_action_tokens(&action_tokens);
  notifications_api.install(router);
  api::NotifyChannelsApi notify_channels_api(
      guard, webhooks, webhook_channel, home_mqtt,
      {{"mqtt://" + public_host + ":" + std::to_string(mqtt_port),
        mqtts_port != 0 ? "mqtts://" + public_host + ":" + std::to_string(mqtts_port) : ""},
       config.notify.webhook_allow_private});
  notify_channels_api.install(router);
  auto& uploads =
      metrics.counter("nightjar_device_uploads_total",
                      "Event pictures cameras uploaded, by what became of them.", {"outcome"});
  api::DeviceUploadsApi device_uploads_api(
      devices, camera_pictures, workers,
      [&uploads](std::string_view outcome) { uploads.with({std::string(outcome)}).inc(); });
  device_uploads_api.install(router);
  // Events past their camera's retention go, every minute.
  Every event_reaping(std::chrono::minutes(1),
                      [&event_store, &event_files, &plans, &clock, &event_reaper_lease,
                       keep = config.events.keep_days] {
                        if (event_reaper_lease())
                          reap_events(event_store, event_files, plans, clock, keep);
                      });

  auto& nodes_alive =
      metrics.gauge("nightjar_cluster_nodes", "Nodes alive on this database.").with({});
  // When the nodes change, cameras move: recorders first (a camera is recorded only where
  // its stream lives), then detection, then the streams watched here.
  Every heartbeat(std::chrono::seconds(1), [&nodes, &nodes_alive, &placement, &recording_jobs,
                                            &detection, &stream_demand, &broker_link] {
    if (!nodes.beat()) spdlog::warn("cluster.heartbeat.failed");
    const auto alive = nodes.alive();
    nodes_alive.set(static_cast<double>(alive.size()));
    if (placement.update(alive)) {
      spdlog::info("cluster.nodes alive={}", alive.size());
      recording_jobs.refresh();
      detection.refresh();
      stream_demand.rehome();
      // A camera that changed while its old holder was dying (went offline,
      // say) told only that holder: its retained state is read again.
      broker_link.reread_states();
    }
  });
  spdlog::info("cluster.node id={}", node_id);

  pool.start();
  std::map<std::string, uint16_t> ports = {
      {"http", *port}, {"rtsp", *rtsp_port}, {"mqtt", mqtt_port}};
  if (mqtts_port != 0) ports["mqtts"] = mqtts_port;
  if (auto w = data->write_ports(ports); !w) {
    spdlog::critical("startup.failed reason=\"{}\"", w.error());
    return 1;
  }
  // Where this server may connect to, as configured (minimisation: nothing else is ever
  // contacted). `nightjar admin outbound` prints it with the webhook hosts people added.
  {
    nlohmann::json outbound = {
        {"smtp", config.smtp.url.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json(without_userinfo(config.smtp.url))},
        {"push_services", config.notify.push_hosts},
        {"webhooks", config.notify.webhook_allow_private ? "public and private addresses"
                                                         : "public addresses only"},
        {"mqtt_broker", config.mqtt.external_host.empty()
                            ? nlohmann::json("embedded (this machine)")
                            : nlohmann::json(config.mqtt.external_host + ":" +
                                             std::to_string(config.mqtt.external_port))}};
    std::ofstream(data->path() / "outbound.json", std::ios::trunc) << outbound.dump() << "\n";
    // Shown to anyone on the status page: where this server connects (not the webhooks
    // people added: those are theirs).
    router.add(http::Method::kGet, "/api/v1/outbound",
               [outbound](const http::Request&) { return http::json_response(200, outbound); });
  }
  // --demo: two simulated cameras on the demo account, started once everything listens.
  std::unique_ptr<DemoCameras> demo_cameras;
  if (config.demo && demo_login) {
    demo_cameras = DemoCameras::start(
        **db, devices, device_service,
        {data->path(), "demo@nightjar.local", public_url,
         "mqtt://" + public_host + ":" + std::to_string(mqtt_port),
         mqtts_port != 0 ? "mqtts://" + public_host + ":" + std::to_string(mqtts_port) : "",
         broker_cert_pem});
    grant_demo_plan(plans, devices);
  }
  spdlog::info("http.listening address={} port={} threads={} demo={}", config.listen, *port,
               config.threads, config.demo);
  spdlog::info("rtsp.listening address={} port={}", config.listen, *rtsp_port);
  spdlog::info("mqtt.broker address={} port={} mode={}", broker_admin.host, mqtt_port,
               broker ? "embedded" : "external");
  std::printf("Nightjar is running at %s\n", url.c_str());
  if (demo_login) std::printf("Demo login: %s\n", demo_login->c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("shutdown.begin signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  demo_cameras.reset();  // they say offline while the broker still runs
  server.stop();
  rtsp.stop();
  stream_demand.drop_relays();  // each stops on its loop, so before the loops stop
  workers.shutdown();           // answers in flight are posted to loops that still exist
  pool.shutdown();
  data->remove_ports();
  spdlog::info("shutdown.done");
  return 0;
}

}  // namespace nj::app
