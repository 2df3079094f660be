#include "mqtt/dynsec.h"

namespace nj::mqtt::dynsec {

using nlohmann::json;

json create_role(const std::string& role, const std::vector<Acl>& acls) {
  json list = json::array();
  for (const auto& a : acls) {
    list.push_back({{"acltype", a.type}, {"topic", a.topic}, {"allow", a.allow}, {"priority", 0}});
  }
  return {{"command", "createRole"}, {"rolename", role}, {"acls", list}};
}

json delete_role(const std::string& role) {
  return {{"command", "deleteRole"}, {"rolename", role}};
}

json create_client(const std::string& username, const std::string& password,
                   const std::string& role) {
  json c = {{"command", "createClient"}, {"username", username}, {"password", password}};
  if (!role.empty()) c["roles"] = json::array({{{"rolename", role}, {"priority", 0}}});
  return c;
}

json delete_client(const std::string& username) {
  return {{"command", "deleteClient"}, {"username", username}};
}

json set_client_password(const std::string& username, const std::string& password) {
  return {{"command", "setClientPassword"}, {"username", username}, {"password", password}};
}

json enable_client(const std::string& username) {
  return {{"command", "enableClient"}, {"username", username}};
}

json disable_client(const std::string& username) {
  return {{"command", "disableClient"}, {"username", username}};
}

json add_client_role(const std::string& username, const std::string& role) {
  return {
      {"command", "addClientRole"}, {"username", username}, {"rolename", role}, {"priority", 0}};
}

json default_acl_deny_all() {
  json acls = json::array();
  for (const char* type : {"publishClientSend", "publishClientReceive", "subscribe"}) {
    acls.push_back({{"acltype", type}, {"allow", false}});
  }
  acls.push_back({{"acltype", "unsubscribe"}, {"allow", true}});
  return {{"command", "setDefaultACLAccess"}, {"acls", acls}};
}

std::string batch(const std::vector<json>& commands) { return json{{"commands", commands}}.dump(); }

std::vector<Outcome> parse_response(std::string_view payload) {
  std::vector<Outcome> out;
  const auto j = json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("responses") || !j["responses"].is_array()) return out;
  for (const auto& r : j["responses"]) {
    if (!r.is_object()) continue;
    Outcome o;
    if (r.contains("command") && r["command"].is_string()) o.command = r["command"];
    if (r.contains("error") && r["error"].is_string()) o.error = r["error"];
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace nj::mqtt::dynsec
