#include "mqtt/dynsec.h"

#include <gtest/gtest.h>

namespace nj::mqtt::dynsec {
namespace {

TEST(Dynsec, CommandsHaveThePluginsShape) {
  const auto role = create_role("device-C1", {{"publishClientSend", "nj/v1/C1/state", true}});
  EXPECT_EQ(role["command"], "createRole");
  EXPECT_EQ(role["rolename"], "device-C1");
  EXPECT_EQ(role["acls"][0]["acltype"], "publishClientSend");
  EXPECT_EQ(role["acls"][0]["topic"], "nj/v1/C1/state");
  EXPECT_EQ(role["acls"][0]["allow"], true);
  const auto client = create_client("C1", "pw", "device-C1");
  EXPECT_EQ(client["username"], "C1");
  EXPECT_EQ(client["password"], "pw");
  EXPECT_EQ(client["roles"][0]["rolename"], "device-C1");
  EXPECT_EQ(disable_client("C1")["command"], "disableClient");
  const auto deny = default_acl_deny_all();
  EXPECT_EQ(deny["command"], "setDefaultACLAccess");
  EXPECT_EQ(deny["acls"].size(), 4u);
  const auto text = batch({enable_client("C1"), delete_client("C2")});
  const auto parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed["commands"].size(), 2u);
}

TEST(Dynsec, ResponsesAreRead) {
  const auto outcomes = parse_response(
      R"({"responses":[{"command":"createClient"},{"command":"createRole","error":"Role already exists"}]})");
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].command, "createClient");
  EXPECT_TRUE(outcomes[0].error.empty());
  EXPECT_EQ(outcomes[1].error, "Role already exists");
  EXPECT_TRUE(parse_response("not json").empty());
  EXPECT_TRUE(parse_response(R"({"responses": 3})").empty());
}

}  // namespace
}  // namespace nj::mqtt::dynsec
