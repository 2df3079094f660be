// nightjar-devices.so: a mosquitto plugin (plugin API v5) that holds the cameras' logins and
// their access rules, so that provisioning a camera costs the broker O(1) however many there
// are. The dynamic-security plugin writes its whole state file after every command, which
// made provisioning N cameras cost O(N²) (about 80 s of broker CPU for 2,000: issue #17).
//
// What it keeps, in memory only (the server sends the whole list again whenever it connects,
// so a restarted broker is filled again by its first server): per camera, the SHA-256 of its
// secret (128 random bits, so a fast hash is enough) and whether it is enabled. A camera logs
// in as its serial and may only publish nj/v1/{serial}/state|event|rpc/res|telemetry|claim and
// subscribe to, and receive, nj/v1/{serial}/rpc/req. Every other login (the server's, the
// home-automation ones) is left to the next plugin (dynamic security).
//
// Only the server's login (plugin_opt_nightjar_admin) may change it, by publishing
// {"commands": [...]} to $CONTROL/nightjar-devices/v1:
//   {"command": "setDevice", "username": S, "password": P, "enabled": B}
//   {"command": "setEnabled", "username": S, "enabled": B}
//   {"command": "deleteDevice", "username": S}
// It answers {"responses": [{"command", "error"?}]} on $CONTROL/nightjar-devices/v1/response.
// A camera disabled, deleted, or given another secret is disconnected at once.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "device_protocol/json_input.h"
#include "device_protocol/topics.h"

namespace {

using nlohmann::json;

constexpr const char* kControlTopic = "$CONTROL/nightjar-devices/v1";
constexpr const char* kResponseTopic = "$CONTROL/nightjar-devices/v1/response";

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

struct Device {
  Digest secret{};
  bool enabled = false;
};

struct Plugin {
  mosquitto_plugin_id_t* id = nullptr;
  std::string admin;
  std::unordered_map<std::string, Device> devices;
};

Digest digest(std::string_view text) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

// A serial as the server registers them (letters, digits, '-', '_'): nothing that could name
// another topic level or a wildcard, nor the server's own login, nor a home-automation login
// (those have a '.').
bool valid_serial(std::string_view s, const std::string& admin) {
  if (s.empty() || s.size() > 64 || s == admin) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto* p = static_cast<Plugin*>(userdata);
  auto* ed = static_cast<mosquitto_evt_basic_auth*>(event_data);
  if (!ed->username) return MOSQ_ERR_PLUGIN_DEFER;
  const auto it = p->devices.find(ed->username);
  if (it == p->devices.end()) return MOSQ_ERR_PLUGIN_DEFER;  // not a camera: the next plugin's
  if (!it->second.enabled || !ed->password) return MOSQ_ERR_AUTH;
  const Digest given = digest(ed->password);
  if (CRYPTO_memcmp(given.data(), it->second.secret.data(), given.size()) != 0) {
    return MOSQ_ERR_AUTH;
  }
  return MOSQ_ERR_SUCCESS;
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto* p = static_cast<Plugin*>(userdata);
  auto* ed = static_cast<mosquitto_evt_acl_check*>(event_data);
  const char* user = mosquitto_client_username(ed->client);
  if (!user || !ed->topic) return MOSQ_ERR_PLUGIN_DEFER;
  const std::string_view topic(ed->topic);
  if (p->admin == user) {
    if (ed->access == MOSQ_ACL_WRITE && topic == kControlTopic) return MOSQ_ERR_SUCCESS;
    if ((ed->access == MOSQ_ACL_SUBSCRIBE || ed->access == MOSQ_ACL_READ) &&
        topic == kResponseTopic) {
      return MOSQ_ERR_SUCCESS;
    }
    return MOSQ_ERR_PLUGIN_DEFER;
  }
  const auto it = p->devices.find(user);
  if (it == p->devices.end()) return MOSQ_ERR_PLUGIN_DEFER;
  if (!it->second.enabled) return MOSQ_ERR_ACL_DENIED;
  if (ed->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS;
  using nj::device_protocol::DeviceAccess;
  switch (ed->access) {
    case MOSQ_ACL_WRITE:
      return nj::device_protocol::device_may(user, topic, DeviceAccess::kPublish)
                 ? MOSQ_ERR_SUCCESS
                 : MOSQ_ERR_ACL_DENIED;
    case MOSQ_ACL_READ:
    case MOSQ_ACL_SUBSCRIBE:
      return nj::device_protocol::device_may(user, topic, DeviceAccess::kSubscribe)
                 ? MOSQ_ERR_SUCCESS
                 : MOSQ_ERR_ACL_DENIED;
    default:
      return MOSQ_ERR_ACL_DENIED;
  }
}

// The command's name, "" if it has none (nothing here may throw into mosquitto's C code).
std::string command_of(const json& c) {
  if (!c.is_object()) return {};
  const auto it = c.find("command");
  return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One command; "" if it was done, else why not. Read through the device protocol's
// validating reader: nothing here may throw into mosquitto's C code.
std::string apply(Plugin& p, const json& c) {
  const std::string command = command_of(c);
  if (command.empty()) return "no command";
  nj::device_protocol::ObjectReader in(c);
  const auto username = in.string("username", 256, true);
  if (!username) return "no username";
  if (!valid_serial(*username, p.admin)) return "not a serial";
  const auto kick = [&] { mosquitto_kick_client_by_username(username->c_str(), false); };
  if (command == "setDevice") {
    const auto password = in.string("password", 4096, true, true);
    const auto enabled = in.boolean("enabled", true);
    if (!password || !enabled) return "setDevice needs a password and enabled";
    if (password->empty() || password->size() > 256) return "bad password";
    Device next{digest(*password), *enabled};
    auto [it, added] = p.devices.try_emplace(*username, next);
    if (!added) {
      const bool changed = it->second.secret != next.secret || !next.enabled;
      it->second = next;
      if (changed) kick();
    }
    return "";
  }
  if (command == "setEnabled") {
    const auto enabled = in.boolean("enabled", true);
    if (!enabled) return "setEnabled needs enabled";
    const auto it = p.devices.find(*username);
    if (it == p.devices.end()) return "no such device";
    it->second.enabled = *enabled;
    if (!it->second.enabled) kick();
    return "";
  }
  if (command == "deleteDevice") {
    if (p.devices.erase(*username) == 0) return "no such device";
    kick();
    return "";
  }
  return "unknown command";
}

void answer_control(Plugin& plugin, mosquitto_evt_control* ed);

int on_control(int, void* event_data, void* userdata) {
  auto* p = static_cast<Plugin*>(userdata);
  auto* ed = static_cast<mosquitto_evt_control*>(event_data);
  const char* user = mosquitto_client_username(ed->client);
  if (!user || p->admin != user) return MOSQ_ERR_ACL_DENIED;
  try {
    answer_control(*p, ed);
  } catch (const std::exception& e) {  // nothing may unwind into mosquitto's C code
    mosquitto_log_printf(MOSQ_LOG_ERR, "nightjar-devices: %s", e.what());
  }
  return MOSQ_ERR_SUCCESS;
}

void answer_control(Plugin& plugin, mosquitto_evt_control* ed) {
  auto* p = &plugin;
  const auto* bytes = static_cast<const char*>(ed->payload);
  const auto doc = bytes ? json::parse(bytes, bytes + ed->payloadlen, nullptr, false) : json();
  json responses = json::array();
  if (!doc.is_object() || !doc.contains("commands") || !doc["commands"].is_array()) {
    responses.push_back({{"command", ""}, {"error", "not {\"commands\": [...]}"}});
  } else {
    for (const auto& c : doc["commands"]) {
      const std::string error = apply(*p, c);
      json r = {{"command", command_of(c)}};
      if (!error.empty()) r["error"] = error;
      responses.push_back(std::move(r));
    }
  }
  const std::string answer = json{{"responses", responses}}.dump();
  mosquitto_broker_publish_copy(mosquitto_client_id(ed->client), kResponseTopic,
                                static_cast<int>(answer.size()), answer.data(), 0, false, nullptr);
}

}  // namespace

extern "C" {

int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                          struct mosquitto_opt* options, int option_count) {
  auto* p = new Plugin;
  p->id = identifier;
  for (int i = 0; i < option_count; ++i) {
    if (options[i].key && options[i].value && std::strcmp(options[i].key, "nightjar_admin") == 0) {
      p->admin = options[i].value;
    }
  }
  if (p->admin.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "nightjar-devices: plugin_opt_nightjar_admin is not set");
    delete p;
    return MOSQ_ERR_INVAL;
  }
  int rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr, p);
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr, p);
  }
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_callback_register(identifier, MOSQ_EVT_CONTROL, on_control, kControlTopic, p);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    delete p;
    return rc;
  }
  *userdata = p;
  return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt*, int) {
  auto* p = static_cast<Plugin*>(userdata);
  if (!p) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
  mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
  mosquitto_callback_unregister(p->id, MOSQ_EVT_CONTROL, on_control, kControlTopic);
  delete p;
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
