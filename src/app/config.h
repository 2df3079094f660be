// Server configuration: defaults, then nightjar.toml, then command-line flags (flags win).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "http/server.h"
#include "media/rtsp/server.h"

namespace nj::app {

// Accounts: e-mail links, token and session lifetimes, sign-in throttling (seconds).
struct AccountsConfig {
  std::string public_url;  // base of links in e-mails; default http://LISTEN:PORT
  int64_t verify_token_ttl_s = int64_t{24} * 3600;
  int64_t reset_token_ttl_s = 3600;
  int64_t session_idle_timeout_s = int64_t{14} * 24 * 3600;
  int64_t session_absolute_timeout_s = int64_t{30} * 24 * 3600;
  int lockout_threshold = 5;
  int address_lockout_threshold = 50;
  int64_t lockout_base_s = 30;
  int64_t lockout_max_s = 900;
  std::filesystem::path policy_dir;  // empty: Nightjar's own policy
  bool secure_cookies = false;
};

// Outgoing mail; with no url, mail stays in the outbox (nightjar admin outbox).
struct SmtpConfig {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string from = "nightjar@localhost";
  std::string username, password;
  bool starttls = false;
};

// The MQTT broker. Embedded (the default): mosquitto runs as our child, listening on
// `listen` (default: the server's own address) and the MQTT port. External: a broker with
// the dynamic-security plugin at host:port, and its admin credentials.
struct MqttConfig {
  std::string listen;         // embedded: the address mosquitto binds; empty = Config::listen
  std::string external_host;  // set: use this broker instead of starting one
  uint16_t external_port = 1883;
  std::string admin_username, admin_password;  // external only
  std::string public_host;  // the address devices are told to reach; empty = the listen address
  // How the cameras' logins are kept on the broker. "plugin": Nightjar's own mosquitto plugin
  // (nightjar-devices.so, which the embedded broker and `nightjar broker` load), O(1) per
  // camera; "dynsec": mosquitto's dynamic-security plugin alone, whose state file is written
  // whole at every command; "hook": the broker asks the nodes over HTTP at each login and
  // topic (POST /api/v1/broker/auth and /acl, EMQX 5's HTTP authentication and
  // authorization), for a clustered broker that runs neither plugin. Empty: the plugin when
  // the broker is embedded, dynsec when it is external (a broker the operator runs may not
  // have the plugin).
  std::string device_logins;
  // "hook": a file holding the token the broker sends as `Authorization: Bearer …`.
  std::string hook_token_file;
};

// Devices: how long a camera streamed on demand keeps streaming after its last viewer left.
struct DevicesConfig {
  int64_t idle_stream_grace_ms = 30'000;
};

// Cloud recording (docs/recording.md): where media go and how they are written.
struct RecordingConfig {
  std::string region = "default";  // media are kept under DIR/media/{region}/
  int segment_minutes = 10;        // a new file after this long
  bool sync = true;                // fdatasync every fragment (power-loss safety)
  int64_t reserve_mb = 256;        // pause recording when less than this is free
};

// Events (issue #14): how long events of a camera without a recording plan are kept (a
// plan's retention applies to those with one).
struct EventsConfig {
  int64_t keep_days = 30;
  // A camera's report within this many seconds of the same kind's last end continues that
  // event (0: every start is an event of its own, for load tests).
  int64_t group_seconds = 5;
};

// Notifications (issue #14): which Web Push services the server posts to (a browser's
// subscription names the URL; only these hosts are trusted with it), and the VAPID contact.
struct NotifyConfig {
  std::vector<std::string> push_hosts = {"fcm.googleapis.com", "updates.push.services.mozilla.com",
                                         "*.push.apple.com", "*.notify.windows.com"};
  bool push_allow_http = false;  // tests only: a push service on loopback
  std::string vapid_subject;     // "mailto:…" or a URL; default: the server's public URL
  // Webhooks go to public addresses only, unless the operator allows the private networks
  // (a home automation hub on the LAN; the server's own loopback then too).
  bool webhook_allow_private = false;
  int64_t webhook_first_retry_ms = 2000;  // doubled at each retry
  int64_t webhook_attempts = 8;
  int64_t email_per_hour = 10;  // notification mails per person
  int64_t push_senders = 16;    // pushes in flight at once (each waits for its answer)
};

// Where a region's media are kept: files under its root (no endpoint), or an S3-compatible
// bucket (issue #17). The keys come from key_file (two lines: access key, secret key) or, with
// none, from NJ_S3_ACCESS_KEY and NJ_S3_SECRET_KEY.
struct StorageConfig {
  std::string endpoint;  // "https://s3.example.org"; empty: files
  std::string bucket;
  std::string region = "us-east-1";  // the S3 region signed for
  std::string key_file;
  std::string prefix = "media/";  // where in the bucket
  int64_t timeout_ms = 10'000;
};

// Data regions (policy item 36): each account's recordings, pictures and exports are kept
// only under its region's root. The default region (recording.region) is rooted in the data
// directory; others are declared as [regions.ID] with their own root (and a name to show).
struct RegionConfig {
  std::string id, name;
  std::filesystem::path root;  // empty for the default region: the data directory
  StorageConfig storage;       // [regions.ID.storage]
};

// The database: SQLite in the data directory (the default), or PostgreSQL at `url`
// ("postgresql://user@host:port/db"), with a pool of `pool_size` connections.
struct DatabaseConfig {
  std::string url;
  int64_t pool_size = 8;
};

// Several nodes on one PostgreSQL database (issue #17). `node` names this one among them
// (stable across restarts: the cameras it held come back to it); empty: an id kept in the
// data directory (DIR/node-id).
struct ClusterConfig {
  std::string node;
  // Several nodes: a directory every node reads (a mounted secret), holding the key that signs
  // stream tokens, so that a token made by one node is good on all and nodes can pull a
  // camera's stream from each other. Empty: DIR/keys, this node's own.
  std::string keys_dir;
};

struct PrivacyConfig {
  // Days not counted toward the 15 working days a privacy request is answered in
  // ("YYYY-MM-DD", UTC), besides Saturdays and Sundays.
  std::vector<std::string> holidays;
};

struct Config {
  std::filesystem::path data_dir = "var";
  // The keys that seal data at rest (docs/keys.md); outside the data directory, so that a copy
  // or backup of the data holds none. Empty: beside it, as DIR-keys.
  std::filesystem::path key_dir;
  std::string listen = "127.0.0.1";
  uint16_t http_port = 8080;
  uint16_t rtsp_port = 8554;
  uint16_t mqtt_port = 1883;
  bool demo = false;
  bool demo_public = false;        // --demo on an address other than loopback, on purpose
  std::filesystem::path web_root;  // the built web app (web/dist)
  size_t threads = 0;              // event loops; 0 = one per core
  http::ServerLimits http;
  media::rtsp::ServerLimits rtsp;
  log::Options log;
  AccountsConfig accounts;
  SmtpConfig smtp;
  MqttConfig mqtt;
  DevicesConfig devices;
  RecordingConfig recording;
  EventsConfig events;
  NotifyConfig notify;
  PrivacyConfig privacy;
  DatabaseConfig database;
  StorageConfig storage;  // the default region's media ([storage])
  ClusterConfig cluster;
  std::vector<RegionConfig> regions;  // besides the default region, unless named in it
};

Config default_config();

// Applies the TOML document in text (source names it in errors) onto config.
// Unknown keys are errors, so a typo never silently does nothing.
Result<void, std::string> apply_toml(Config& config, std::string_view text,
                                     std::string_view source);

// Parses `serve` arguments (after the word "serve"): reads --config first, then applies
// every other flag on top. Errors name the offending flag.
Result<Config, std::string> parse_serve_args(std::span<const std::string_view> args);

std::string serve_usage();
// A URL without its user information ("smtp://user:pass@host:25" → "smtp://host:25"), for
// showing where the server connects without showing how it signs in.
std::string without_userinfo(std::string_view url);

// 127.0.0.0/8, ::1 (bracketed or not) and localhost.
bool is_loopback(std::string_view address);

}  // namespace nj::app
