#include "mqtt/broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/random.h"
#include "mqtt/dynsec.h"

namespace nj::mqtt {
namespace {

// A TCP port free on `address` now (the kernel's pick; mosquitto cannot report its own).
uint16_t free_port(const std::string& address) {
  const bool v6 = address.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  uint16_t port = 0;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    length = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    length = sizeof(*a);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  }
  ::close(fd);
  return port;
}

bool accepts_connections(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc = -1;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, address.c_str(), &a.sin6_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address == "0.0.0.0" ? "127.0.0.1" : address.c_str(), &a.sin_addr);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  ::close(fd);
  return rc == 0;
}

std::string tail_of(const std::filesystem::path& file, size_t bytes = 600) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

std::string devices_plugin_beside_program() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  const auto plugin =
      std::filesystem::path(std::string(buf, static_cast<size_t>(n))).parent_path() /
      "nightjar-devices.so";
  std::error_code ec;
  return std::filesystem::exists(plugin, ec) ? plugin.string() : std::string();
}

EmbeddedBroker::EmbeddedBroker(BrokerOptions options, uint16_t port, std::string password)
    : options_(std::move(options)), port_(port), admin_password_(std::move(password)) {}

Result<std::unique_ptr<EmbeddedBroker>, std::string> EmbeddedBroker::start(BrokerOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  std::filesystem::permissions(options.dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  for (const auto* tool : {&options.mosquitto, &options.mosquitto_ctrl, &options.plugin}) {
    if (!std::filesystem::exists(*tool)) {
      return Unexpected(*tool + " is missing (Debian packages mosquitto, mosquitto-clients)");
    }
  }
  if (!options.devices_plugin.empty() && !std::filesystem::exists(options.devices_plugin)) {
    return Unexpected(options.devices_plugin + " is missing (built with nightjar)");
  }
  // The plugin's state starts empty at each start: the server rebuilds it from its database.
  const auto state = options.dir / "dynamic-security.json";
  std::filesystem::remove(state, ec);
  const std::string password = random_hex_id() + random_hex_id();
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker(options, 0, password));
  auto init = run_program(
      {options.mosquitto_ctrl, "dynsec", "init", state.string(), broker->admin_username_, password},
      std::chrono::seconds(10));
  if (!init) return Unexpected("mosquitto_ctrl: " + init.error());
  if (init->exit_code != 0) {
    return Unexpected("mosquitto_ctrl dynsec init failed: " + init->output);
  }
  // Deny by default, and give the admin its extra rights, before anyone can connect.
  {
    std::ifstream in(state);
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("clients") || !doc.contains("roles")) {
      return Unexpected("unexpected dynamic-security state in " + state.string());
    }
    doc["defaultACLAccess"] = {{"publishClientSend", false},
                               {"publishClientReceive", false},
                               {"subscribe", false},
                               {"unsubscribe", true}};
    if (!options.admin_acls.empty()) {
      const auto role = dynsec::create_role("nightjar-server", options.admin_acls);
      doc["roles"].push_back({{"rolename", role["rolename"]}, {"acls", role["acls"]}});
      for (auto& client : doc["clients"]) {
        if (client.value("username", "") == broker->admin_username_) {
          client["roles"].push_back({{"rolename", "nightjar-server"}, {"priority", 0}});
        }
      }
    }
    std::ofstream out(state, std::ios::trunc);
    out << doc.dump(2);
    if (!out) return Unexpected("cannot write " + state.string());
  }
  std::filesystem::permissions(
      state, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace, ec);
  // A picked port can be taken by someone else before mosquitto binds it: try a few.
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    broker->port_ = options.port != 0 ? options.port : free_port(options.listen);
    if (broker->port_ == 0) return Unexpected("no free port on " + options.listen);
    if (!options.tls_cert.empty()) {
      broker->tls_port_ = options.tls_port != 0 ? options.tls_port : free_port(options.listen);
      if (broker->tls_port_ == 0 || broker->tls_port_ == broker->port_) {
        return Unexpected("no second free port on " + options.listen);
      }
    }
    auto launched = broker->launch();
    if (launched) {
      broker->supervisor_ = std::thread([b = broker.get()] { b->supervise(); });
      return broker;
    }
    last_error = launched.error();
    if (options.port != 0) break;
  }
  return Unexpected(last_error);
}

void prune_log(const std::filesystem::path& log, int keep_days, int64_t now_unix_s) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return;
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  const std::time_t cutoff = static_cast<std::time_t>(now_unix_s - int64_t{keep_days} * 86400);
  std::tm tm{};
  gmtime_r(&cutoff, &tm);
  char oldest[32];
  std::strftime(oldest, sizeof oldest, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string kept;
  bool keep = false;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end + 1;
    const std::string_view line(text.data() + at, end - at);
    const bool stamped = line.size() >= 19 && line[4] == '-' && line[7] == '-' && line[10] == 'T';
    if (stamped) keep = line.substr(0, 19) >= oldest;
    if (keep) kept += line;
    at = end;
  }
  if (kept.size() == text.size()) return;
  // In place (mosquitto keeps the file open and appends to it).
  std::ofstream out(log, std::ios::binary | std::ios::trunc);
  out << kept;
}

void EmbeddedBroker::prune_log() {
  nj::mqtt::prune_log(options_.dir / "mosquitto.log", options_.log_keep_days,
                      static_cast<int64_t>(std::time(nullptr)));
}

Result<void, std::string> EmbeddedBroker::launch() {
  const auto config = options_.dir / "mosquitto.conf";
  const auto log = options_.dir / "mosquitto.log";
  {
    std::ofstream out(config, std::ios::trunc);
    out << "# Written by nightjar serve at each start; edits are lost.\n"
        << "per_listener_settings false\n"
        << "allow_anonymous false\n"
        << "listener " << port_ << " " << options_.listen << "\n";
    if (tls_port_ != 0) {
      out << "listener " << tls_port_ << " " << options_.listen << "\n"
          << "certfile " << options_.tls_cert.string() << "\n"
          << "keyfile " << options_.tls_key.string() << "\n";
    }
    if (!options_.devices_plugin.empty()) {
      // First: it decides for the cameras' logins and leaves every other one to the next.
      out << "plugin " << options_.devices_plugin << "\n"
          << "plugin_opt_nightjar_admin " << admin_username_ << "\n";
    }
    out << "plugin " << options_.plugin << "\n"
        << "plugin_opt_config_file " << (options_.dir / "dynamic-security.json").string() << "\n"
        << "persistence false\n"
        << "set_tcp_nodelay true\n"
        // The server's one client receives what every device says: a burst of a thousand
        // devices coming online (state + claim each) must queue for it, not be dropped at
        // mosquitto's default of 1,000 queued messages per client.
        << "max_queued_messages 200000\n"
        // No client may send a message over 1 MiB (a device's largest answer, a card's
        // listing, is bounded below that); larger packets end the sender's connection.
        << "max_packet_size 1048576\n"
        << "log_dest stderr\n"
        << "log_type error\nlog_type warning\nlog_type notice\n"
        // Its log is kept in DIR/mqtt: no line of it names a camera's address (minimisation;
        // connections are the server's to count, in /metrics).
        << "connection_messages false\n"
        << "log_timestamp_format %Y-%m-%dT%H:%M:%S\n";
    // (The machine's local time: pruning compares it as UTC, off by the zone's few hours.)
    // As root, mosquitto would switch to its own user, who cannot write our directory.
    if (::geteuid() == 0) out << "user root\n";
    if (!out) return Unexpected("cannot write " + config.string());
  }
  // A broker left over from a server that was killed (it dies with it, but not in the same
  // instant) may still hold a fixed port: wait for it to go, or "accepts connections" below
  // would be its answer, not our new child's.
  for (int i = 0; i < 300 && accepts_connections(options_.listen, port_); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  prune_log();
  auto child = ChildProcess::spawn({options_.mosquitto, "-c", config.string()}, log);
  if (!child) return Unexpected(child.error());
  for (int i = 0; i < 500; ++i) {
    if (auto status = child->poll()) {
      return Unexpected("mosquitto exited at start: " + tail_of(log));
    }
    if (accepts_connections(options_.listen, port_) && !child->poll()) {
      std::lock_guard lock(mu_);
      child_ = std::move(*child);
      spdlog::info("mqtt.broker.started port={} pid={}", port_, child_->pid());
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Unexpected("mosquitto did not listen on port " + std::to_string(port_) + ": " +
                    tail_of(log));
}

void EmbeddedBroker::supervise() {
  auto delay = std::chrono::milliseconds(200);
  while (!stopping_) {
    bool down = false;
    {
      std::lock_guard lock(mu_);
      if (!child_) {
        down = true;  // the last restart failed
      } else if (auto status = child_->poll()) {
        spdlog::error("mqtt.broker.exited status={} restarting_in_ms={}", *status, delay.count());
        child_.reset();
        down = true;
      }
    }
    if (!down) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (stopping_) break;
    if (auto launched = launch(); launched) {
      ++restarts_;
      delay = std::chrono::milliseconds(200);
    } else {
      spdlog::error("mqtt.broker.restart_failed error=\"{}\"", launched.error());
      delay = std::min(std::chrono::milliseconds(30'000), delay * 2);
    }
  }
}

pid_t EmbeddedBroker::pid() const {
  std::lock_guard lock(mu_);
  return child_ ? child_->pid() : -1;
}

EmbeddedBroker::~EmbeddedBroker() {
  stopping_ = true;
  if (supervisor_.joinable()) supervisor_.join();
  std::lock_guard lock(mu_);
  if (child_) child_->stop();
  spdlog::info("mqtt.broker.stopped");
}

}  // namespace nj::mqtt
