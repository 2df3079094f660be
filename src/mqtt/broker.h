// The embedded broker: Debian's mosquitto as a supervised child process, with the
// dynamic-security plugin and anonymous access off, listening on loopback unless told
// otherwise. A fresh admin password is made at every start; the plugin's state lives in
// DIR/mqtt/dynamic-security.json while the server runs and is rebuilt from the database
// at the next start. If mosquitto dies it is started again on the same port, its state
// intact, and the clients reconnect.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/child_process.h"
#include "common/result.h"
#include "mqtt/dynsec.h"

namespace nj::mqtt {

struct BrokerOptions {
  std::filesystem::path dir;  // config, plugin state and log go here (created, mode 0700)
  std::string listen = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port is picked
  std::string mosquitto = "/usr/sbin/mosquitto";
  std::string mosquitto_ctrl = "/usr/bin/mosquitto_ctrl";
  std::string plugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
  // Nightjar's own plugin for the cameras' logins (nightjar-devices.so, src/mqtt/
  // devices_plugin.cc), loaded before dynamic security; empty: cameras are dynamic-security
  // clients like every other login.
  std::string devices_plugin;
  // What the admin client may do besides managing the broker (it may always receive and
  // subscribe to everything). Written into the plugin's state before mosquitto starts, with
  // every default access denied, so no client ever sees a more open broker.
  std::vector<dynsec::Acl> admin_acls;
  // A second listener with TLS, for devices: its certificate and key (both, or neither).
  // Devices that were given this certificate (pinned, in their QR payload) give their
  // secret only to this listener.
  std::filesystem::path tls_cert, tls_key;
  uint16_t tls_port = 0;  // 0: a free port is picked
  // Its log (DIR/mosquitto.log) keeps the lines of this many days; older ones are dropped at
  // each start and each time prune_log() is called (the server: hourly).
  int log_keep_days = 14;
};

// nightjar-devices.so beside the running program (where the build and an install put it),
// or "" if it is not there.
std::string devices_plugin_beside_program();

// Drops the lines of a log older than `keep_days` before `now_unix_s`: lines start with
// "YYYY-MM-DDTHH:MM:SS" (UTC); a line without one goes with the line before it.
void prune_log(const std::filesystem::path& log, int keep_days, int64_t now_unix_s);

class EmbeddedBroker {
 public:
  // Starts mosquitto and waits until it accepts connections.
  static Result<std::unique_ptr<EmbeddedBroker>, std::string> start(BrokerOptions options);
  ~EmbeddedBroker();  // stops the child

  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }  // 0 without TLS
  // Drops its log's lines older than options.log_keep_days.
  void prune_log();
  const std::string& host() const { return options_.listen; }
  const std::string& admin_username() const { return admin_username_; }
  const std::string& admin_password() const { return admin_password_; }
  // Whether cameras log in through nightjar-devices.so ($CONTROL/nightjar-devices/v1).
  bool devices_plugin() const { return !options_.devices_plugin.empty(); }
  uint64_t restarts() const { return restarts_; }
  pid_t pid() const;

 private:
  EmbeddedBroker(BrokerOptions options, uint16_t port, std::string password);
  Result<void, std::string> launch();
  void supervise();

  BrokerOptions options_;
  uint16_t port_;
  uint16_t tls_port_ = 0;
  std::string admin_username_ = "nightjar-admin";
  std::string admin_password_;
  mutable std::mutex mu_;  // guards child_
  std::optional<ChildProcess> child_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> restarts_{0};
  std::thread supervisor_;
};

}  // namespace nj::mqtt
