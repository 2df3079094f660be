// Commands for mosquitto's dynamic-security plugin ($CONTROL/dynamic-security/v1) and the
// reading of its answers. I/O-free: JSON out, JSON in. The server sends these over its
// privileged client to give each device its own credentials and a role that allows only
// its own topics.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace nj::mqtt::dynsec {

inline constexpr std::string_view kControlTopic = "$CONTROL/dynamic-security/v1";
inline constexpr std::string_view kResponseTopic = "$CONTROL/dynamic-security/v1/response";

// One ACL entry: acltype is publishClientSend, publishClientReceive, subscribePattern,
// subscribeLiteral, unsubscribePattern or unsubscribeLiteral.
struct Acl {
  std::string type;
  std::string topic;
  bool allow = true;
};

nlohmann::json create_role(const std::string& role, const std::vector<Acl>& acls);
nlohmann::json delete_role(const std::string& role);
nlohmann::json create_client(const std::string& username, const std::string& password,
                             const std::string& role);
nlohmann::json delete_client(const std::string& username);
nlohmann::json set_client_password(const std::string& username, const std::string& password);
nlohmann::json enable_client(const std::string& username);
nlohmann::json disable_client(const std::string& username);
nlohmann::json add_client_role(const std::string& username, const std::string& role);
// What is allowed when no role says: everything denied, except that unsubscribing is free.
nlohmann::json default_acl_deny_all();

// Several commands in one control message: {"commands": [...]}.
std::string batch(const std::vector<nlohmann::json>& commands);

struct Outcome {
  std::string command;
  std::string error;  // empty when it succeeded
};
// The per-command outcomes of a response; empty if the payload is not a response.
std::vector<Outcome> parse_response(std::string_view payload);

}  // namespace nj::mqtt::dynsec
