#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

namespace nj::app {
namespace {

template <class Int>
Result<Int, std::string> parse_int(std::string_view flag, std::string_view text, int64_t min,
                                   int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return Unexpected(std::string(flag) + " takes an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not '" + std::string(text) + "'");
  }
  return static_cast<Int>(v);
}

// Reads one TOML table key by key; anything not consumed is reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix)
      : table_(table), prefix_(std::move(prefix)) {}

  Result<void, std::string> string(std::string_view key, std::string& out) {
    seen(key);
    const auto* node = table_.get(key);
    if (!node) return {};
    if (!node->is_string()) return type_error(key, "a string");
    out = node->value<std::string>().value_or("");
    return {};
  }
  Result<void, std::string> path(std::string_view key, std::filesystem::path& out) {
    std::string s = out.string();
    if (auto r = string(key, s); !r) return r;
    out = s;
    return {};
  }
  template <class Int>
  Result<void, std::string> integer(std::string_view key, Int& out, int64_t min, int64_t max) {
    seen(key);
    const auto* node = table_.get(key);
    if (!node) return {};
    if (!node->is_integer()) return type_error(key, "an integer");
    const int64_t v = node->value<int64_t>().value_or(0);
    if (v < min || v > max) {
      return Unexpected(name(key) + " must be from " + std::to_string(min) + " to " +
                        std::to_string(max));
    }
    out = static_cast<Int>(v);
    return {};
  }
  Result<void, std::string> millis(std::string_view key, std::chrono::milliseconds& out) {
    int64_t v = out.count();
    if (auto r = integer(key, v, 1, 86'400'000); !r) return r;
    out = std::chrono::milliseconds(v);
    return {};
  }
  Result<void, std::string> strings(std::string_view key, std::vector<std::string>& out) {
    seen(key);
    const auto* node = table_.get(key);
    if (!node) return {};
    const auto* array = node->as_array();
    if (!array) return type_error(key, "a list of strings");
    std::vector<std::string> values;
    for (const auto& item : *array) {
      if (!item.is_string()) return type_error(key, "a list of strings");
      values.push_back(item.value<std::string>().value_or(""));
    }
    out = std::move(values);
    return {};
  }
  Result<void, std::string> boolean(std::string_view key, bool& out) {
    seen(key);
    const auto* node = table_.get(key);
    if (!node) return {};
    if (!node->is_boolean()) return type_error(key, "true or false");
    out = node->value<bool>().value_or(false);
    return {};
  }
  const toml::table* subtable(std::string_view key) {
    seen(key);
    const auto* node = table_.get(key);
    return node ? node->as_table() : nullptr;
  }
  Result<void, std::string> finish() const {
    for (const auto& [key, node] : table_) {
      if (std::find(seen_.begin(), seen_.end(), key.str()) == seen_.end()) {
        return Unexpected("unknown setting '" + name(key.str()) + "'");
      }
    }
    return {};
  }

 private:
  void seen(std::string_view key) { seen_.emplace_back(key); }
  std::string name(std::string_view key) const { return prefix_ + std::string(key); }
  Result<void, std::string> type_error(std::string_view key, std::string_view what) const {
    return Unexpected(name(key) + " must be " + std::string(what));
  }
  const toml::table& table_;
  std::string prefix_;
  std::vector<std::string> seen_;
};

// Every read runs (each only assigns its own field); the first error, if any, is reported.
Result<void, std::string> first_error(std::initializer_list<Result<void, std::string>> results) {
  for (const auto& r : results) {
    if (!r) return r;
  }
  return {};
}

// [storage] or [regions.ID.storage]: an S3 bucket for the region's media.
Result<void, std::string> read_storage(const toml::table& table, const std::string& prefix,
                                       StorageConfig& out) {
  TableReader t(table, prefix);
  if (auto e = first_error({t.string("endpoint", out.endpoint), t.string("bucket", out.bucket),
                            t.string("region", out.region), t.string("key_file", out.key_file),
                            t.string("prefix", out.prefix),
                            t.integer("timeout_ms", out.timeout_ms, 100, 600'000), t.finish()});
      !e) {
    return e;
  }
  if (out.endpoint.empty()) return Unexpected(prefix + "endpoint is needed");
  if (!out.endpoint.starts_with("http://") && !out.endpoint.starts_with("https://")) {
    return Unexpected(prefix + "endpoint must start with https:// (or http://)");
  }
  if (out.bucket.empty()) return Unexpected(prefix + "bucket is needed");
  if (!out.prefix.empty() && out.prefix.back() != '/') out.prefix += '/';
  return {};
}

Result<void, std::string> apply_table(Config& c, const toml::table& root) {
  TableReader top(root, "");
  if (auto r = first_error({top.path("data", c.data_dir), top.path("keys", c.key_dir),
                            top.string("listen", c.listen), top.boolean("demo", c.demo),
                            top.boolean("demo_public", c.demo_public),
                            top.integer("threads", c.threads, 0, 256)});
      !r) {
    return r;
  }
  if (const auto* ports = top.subtable("ports")) {
    TableReader t(*ports, "ports.");
    if (auto r = first_error({t.integer("http", c.http_port, 0, 65535),
                              t.integer("rtsp", c.rtsp_port, 0, 65535),
                              t.integer("mqtt", c.mqtt_port, 0, 65535), t.finish()});
        !r) {
      return r;
    }
  }
  if (const auto* http = top.subtable("http")) {
    TableReader t(*http, "http.");
    if (auto r = first_error(
            {t.path("web_root", c.web_root),
             t.integer("header_limit_bytes", c.http.header_limit, 1024, 1 << 20),
             t.integer("body_limit_bytes", c.http.body_limit, 1024, int64_t{1} << 32),
             t.millis("idle_timeout_ms", c.http.idle_timeout),
             t.millis("request_timeout_ms", c.http.request_timeout),
             t.integer("max_connections", c.http.max_connections, 1, 1'000'000),
             t.integer("max_connections_per_address", c.http.max_connections_per_address, 0,
                       1'000'000),
             t.millis("websocket_message_timeout_ms", c.http.websocket_message_timeout),
             t.integer("max_anonymous_websockets", c.http.max_anonymous_websockets, 0, 1'000'000),
             t.integer("max_anonymous_websockets_per_address",
                       c.http.max_anonymous_websockets_per_address, 0, 1'000'000),
             t.integer("websocket_message_limit_bytes", c.http.websocket_message_limit, 1024,
                       64 << 20),
             t.finish()});
        !r) {
      return r;
    }
  }
  if (const auto* devices = top.subtable("devices")) {
    TableReader t(*devices, "devices.");
    if (auto r = first_error({t.integer("idle_stream_grace_ms", c.devices.idle_stream_grace_ms, 0,
                                        int64_t{24} * 3600 * 1000),
                              t.finish()});
        !r) {
      return r;
    }
  }
  if (const auto* recording = top.subtable("recording")) {
    TableReader t(*recording, "recording.");
    auto& r = c.recording;
    if (auto e = first_error(
            {t.string("region", r.region), t.integer("segment_minutes", r.segment_minutes, 1, 60),
             t.boolean("sync", r.sync), t.integer("reserve_mb", r.reserve_mb, 0, int64_t{1} << 30),
             t.finish()});
        !e) {
      return e;
    }
    if (r.region.empty() || r.region.size() > 32 ||
        r.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      return Unexpected(std::string("recording.region is lower-case letters, digits and '-'"));
    }
  }
  if (const auto* events = top.subtable("events")) {
    TableReader t(*events, "events.");
    if (auto e =
            first_error({t.integer("keep_days", c.events.keep_days, 1, 3650),
                         t.integer("group_seconds", c.events.group_seconds, 0, 60), t.finish()});
        !e) {
      return e;
    }
  }
  if (const auto* database = top.subtable("database")) {
    TableReader t(*database, "database.");
    if (auto e = first_error({t.string("url", c.database.url),
                              t.integer("pool_size", c.database.pool_size, 1, 1000), t.finish()});
        !e) {
      return e;
    }
    if (!c.database.url.empty() && !c.database.url.starts_with("postgresql://") &&
        !c.database.url.starts_with("postgres://")) {
      return Unexpected(std::string("database.url must start with postgresql://"));
    }
  }
  if (const auto* cluster = top.subtable("cluster")) {
    TableReader t(*cluster, "cluster.");
    if (auto e = first_error({t.string("node", c.cluster.node),
                              t.string("keys_dir", c.cluster.keys_dir), t.finish()});
        !e) {
      return e;
    }
    if (c.cluster.node.size() > 64 ||
        c.cluster.node.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
            std::string::npos) {
      return Unexpected(std::string("cluster.node is lower-case letters, digits and '-'"));
    }
  }
  if (const auto* storage = top.subtable("storage")) {
    if (auto e = read_storage(*storage, "storage.", c.storage); !e) return e;
  }
  if (const auto* regions = top.subtable("regions")) {
    for (const auto& [key, node] : *regions) {
      const std::string id(key.str());
      const auto* table = node.as_table();
      if (!table) return Unexpected("regions." + id + " must be a table");
      if (id.empty() || id.size() > 32 ||
          id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
        return Unexpected("regions." + id +
                          ": a region's id is lower-case letters, digits and '-'");
      }
      RegionConfig r{id, id, {}, {}};
      TableReader t(*table, "regions." + id + ".");
      if (const auto* storage = t.subtable("storage")) {
        if (auto e = read_storage(*storage, "regions." + id + ".storage.", r.storage); !e) {
          return e;
        }
      }
      if (auto e = first_error({t.string("name", r.name), t.path("root", r.root), t.finish()});
          !e) {
        return e;
      }
      if (r.name.empty() || r.name.size() > 64) {
        return Unexpected("regions." + id + ".name must be 1 to 64 characters");
      }
      c.regions.push_back(std::move(r));
    }
  }
  if (const auto* privacy = top.subtable("privacy")) {
    TableReader t(*privacy, "privacy.");
    if (auto e = first_error({t.strings("holidays", c.privacy.holidays), t.finish()}); !e) {
      return e;
    }
    for (const auto& day : c.privacy.holidays) {
      const bool shaped = day.size() == 10 && day[4] == '-' && day[7] == '-' &&
                          std::all_of(day.begin(), day.end(), [](char ch) {
                            return (ch >= '0' && ch <= '9') || ch == '-';
                          });
      if (!shaped) return Unexpected("privacy.holidays: '" + day + "' is not YYYY-MM-DD");
    }
  }
  if (const auto* notify = top.subtable("notify")) {
    TableReader t(*notify, "notify.");
    auto& n = c.notify;
    if (auto e = first_error(
            {t.strings("push_hosts", n.push_hosts), t.boolean("push_allow_http", n.push_allow_http),
             t.string("vapid_subject", n.vapid_subject),
             t.boolean("webhook_allow_private", n.webhook_allow_private),
             t.integer("webhook_first_retry_ms", n.webhook_first_retry_ms, 10, 600'000),
             t.integer("webhook_attempts", n.webhook_attempts, 1, 20),
             t.integer("email_per_hour", n.email_per_hour, 1, 1000),
             t.integer("push_senders", n.push_senders, 1, 256), t.finish()});
        !e) {
      return e;
    }
    for (const auto& host : n.push_hosts) {
      const std::string_view name = std::string_view(host).starts_with("*.")
                                        ? std::string_view(host).substr(2)
                                        : std::string_view(host);
      if (name.empty() || name.size() > 253 ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
        return Unexpected("notify.push_hosts: '" + host + "' is not a lower-case host name");
      }
    }
  }
  if (const auto* mqtt = top.subtable("mqtt")) {
    TableReader t(*mqtt, "mqtt.");
    auto& m = c.mqtt;
    if (auto r = first_error(
            {t.string("listen", m.listen), t.string("external_host", m.external_host),
             t.integer("external_port", m.external_port, 1, 65535),
             t.string("admin_username", m.admin_username),
             t.string("admin_password", m.admin_password), t.string("public_host", m.public_host),
             t.string("device_logins", m.device_logins),
             t.string("hook_token_file", m.hook_token_file), t.finish()});
        !r) {
      return r;
    }
    if (!m.device_logins.empty() && m.device_logins != "plugin" && m.device_logins != "dynsec" &&
        m.device_logins != "hook") {
      return Unexpected(
          std::string("mqtt.device_logins must be \"plugin\", \"dynsec\" or \"hook\""));
    }
    if (m.device_logins == "hook" && (m.hook_token_file.empty() || m.external_host.empty())) {
      return Unexpected(std::string(
          "mqtt.device_logins = \"hook\" is for an external broker (mqtt.external_host) and "
          "needs mqtt.hook_token_file"));
    }
  }
  if (const auto* rtsp = top.subtable("rtsp")) {
    TableReader t(*rtsp, "rtsp.");
    if (auto r = first_error(
            {t.millis("idle_timeout_ms", c.rtsp.idle_timeout),
             t.integer("send_queue_bytes", c.rtsp.send_queue_bytes, 64 * 1024, int64_t{1} << 30),
             t.integer("max_connections", c.rtsp.max_connections, 1, 1'000'000), t.finish()});
        !r) {
      return r;
    }
  }
  if (const auto* accounts = top.subtable("accounts")) {
    TableReader t(*accounts, "accounts.");
    auto& a = c.accounts;
    constexpr int64_t kYear = 366LL * 24 * 3600;
    if (auto r = first_error(
            {t.string("public_url", a.public_url),
             t.integer("verify_token_ttl_s", a.verify_token_ttl_s, 1, kYear),
             t.integer("reset_token_ttl_s", a.reset_token_ttl_s, 1, kYear),
             t.integer("session_idle_timeout_s", a.session_idle_timeout_s, 1, kYear),
             t.integer("session_absolute_timeout_s", a.session_absolute_timeout_s, 1, kYear),
             t.integer("lockout_threshold", a.lockout_threshold, 1, 1000),
             t.integer("address_lockout_threshold", a.address_lockout_threshold, 1, 1'000'000),
             t.integer("lockout_base_s", a.lockout_base_s, 1, 86400),
             t.integer("lockout_max_s", a.lockout_max_s, 1, int64_t{7} * 86400),
             t.path("policy_dir", a.policy_dir), t.boolean("secure_cookies", a.secure_cookies),
             t.finish()});
        !r) {
      return r;
    }
  }
  if (const auto* smtp = top.subtable("smtp")) {
    TableReader t(*smtp, "smtp.");
    if (auto r = first_error({t.string("url", c.smtp.url), t.string("from", c.smtp.from),
                              t.string("username", c.smtp.username),
                              t.string("password", c.smtp.password),
                              t.boolean("starttls", c.smtp.starttls), t.finish()});
        !r) {
      return r;
    }
    if (!c.smtp.url.empty() && !c.smtp.url.starts_with("smtp://") &&
        !c.smtp.url.starts_with("smtps://")) {
      return Unexpected(std::string("smtp.url must start with smtp:// or smtps://"));
    }
  }
  if (const auto* log = top.subtable("log")) {
    TableReader t(*log, "log.");
    std::string format = c.log.format == log::Format::kJson ? "json" : "text";
    if (auto r = first_error({t.string("level", c.log.level), t.string("format", format),
                              t.integer("keep_days", c.log.keep_days, 1, 3650), t.finish()});
        !r) {
      return r;
    }
    if (!log::parse_format(format, c.log.format)) {
      return Unexpected(std::string("log.format must be \"text\" or \"json\""));
    }
  }
  return top.finish();
}

}  // namespace

Config default_config() {
  Config c;
  c.web_root = NJ_DEFAULT_WEB_ROOT;
  return c;
}

Result<void, std::string> apply_toml(Config& config, std::string_view text,
                                     std::string_view source) {
  try {
    const auto table = toml::parse(text, source);
    return apply_table(config, table);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Unexpected(msg.str());
  }
}

std::string without_userinfo(std::string_view url) {
  const auto scheme = url.find("://");
  const size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto end = url.find_first_of("/?#", start);
  const auto authority = url.substr(start, end == std::string_view::npos ? url.npos : end - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

bool is_loopback(std::string_view address) {
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  return address == "localhost" || address == "::1" || address.starts_with("127.");
}

std::string serve_usage() {
  return R"(usage: nightjar serve [options]
  --config FILE       nightjar.toml to read (flags below override it)
  --data DIR          data directory (database, media, keys)          [var]
  --keys DIR          keys sealing data at rest, kept out of backups  [DIR-keys]
  --listen ADDR       address to bind                                 [127.0.0.1]
  --http-port N       HTTP port, 0 = pick a free one                  [8080]
  --rtsp-port N       RTSP port, 0 = pick a free one                  [8554]
  --mqtt-port N       MQTT port, 0 = pick a free one                  [1883]
  --demo              demo mode (a demo account and cameras; loopback only)
  --demo-public       let demo mode listen on an address other than loopback
  --web-root DIR      built web app to serve                          [web/dist]
  --threads N         event-loop threads, 0 = one per core            [0]
  --log-level LEVEL   trace, debug, info, warn, error                 [info]
  --log-format FMT    text or json                                    [text]
)";
}

Result<Config, std::string> parse_serve_args(std::span<const std::string_view> args) {
  Config c = default_config();
  // --config first, so flags override the file wherever they stand.
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--config") continue;
    if (i + 1 >= args.size()) return Unexpected(std::string("--config needs a file"));
    const std::string file(args[i + 1]);
    std::ifstream in(file);
    if (!in) return Unexpected("cannot read config file " + file);
    std::stringstream text;
    text << in.rdbuf();
    if (auto r = apply_toml(c, text.str(), file); !r) return Unexpected(r.error());
  }
  using Apply = std::function<Result<void, std::string>(std::string_view value)>;
  auto port = [](uint16_t& field, std::string_view flag) -> Apply {
    return [&field, flag](std::string_view v) -> Result<void, std::string> {
      auto p = parse_int<uint16_t>(flag, v, 0, 65535);
      if (!p) return Unexpected(std::move(p).error());
      field = *p;
      return {};
    };
  };
  auto text = [](auto& field) -> Apply {
    return [&field](std::string_view v) -> Result<void, std::string> {
      field = std::string(v);
      return {};
    };
  };
  const std::map<std::string_view, Apply> with_value = {
      {"--config", [](std::string_view) -> Result<void, std::string> { return {}; }},
      {"--data", text(c.data_dir)},
      {"--keys", text(c.key_dir)},
      {"--listen", text(c.listen)},
      {"--http-port", port(c.http_port, "--http-port")},
      {"--rtsp-port", port(c.rtsp_port, "--rtsp-port")},
      {"--mqtt-port", port(c.mqtt_port, "--mqtt-port")},
      {"--web-root", text(c.web_root)},
      {"--log-level", text(c.log.level)},
      {"--threads",
       [&](std::string_view v) -> Result<void, std::string> {
         auto n = parse_int<size_t>("--threads", v, 0, 256);
         if (!n) return Unexpected(std::move(n).error());
         c.threads = *n;
         return {};
       }},
      {"--log-format",
       [&](std::string_view v) -> Result<void, std::string> {
         if (log::parse_format(v, c.log.format)) return {};
         return Unexpected(std::string("--log-format takes text or json"));
       }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const auto flag = args[i];
    if (flag == "--demo") {
      c.demo = true;
      continue;
    }
    if (flag == "--demo-public") {
      c.demo_public = true;
      continue;
    }
    const auto it = with_value.find(flag);
    if (it == with_value.end()) return Unexpected("unknown option '" + std::string(flag) + "'");
    if (i + 1 >= args.size()) return Unexpected(std::string(flag) + " needs a value");
    if (auto r = it->second(args[++i]); !r) return Unexpected(r.error());
  }
  if (c.data_dir.empty()) return Unexpected(std::string("--data must not be empty"));
  // The demo account's password is printed for anyone to use: never on a reachable address
  // unless the operator says so.
  if (c.demo && !c.demo_public && !is_loopback(c.listen)) {
    return Unexpected("--demo listens only on loopback (127.0.0.1 or ::1), not on '" + c.listen +
                      "'; add --demo-public to serve the demo elsewhere");
  }
  if (c.threads == 0) c.threads = std::max(1u, std::thread::hardware_concurrency());
  return c;
}

}  // namespace nj::app
