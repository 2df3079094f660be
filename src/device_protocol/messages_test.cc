#include "device_protocol/messages.h"

#include <gtest/gtest.h>

#include "device_protocol/provision.h"
#include "device_protocol/topics.h"

namespace nj::device_protocol {
namespace {

using nlohmann::json;

TEST(Topics, BuildAndParse) {
  EXPECT_EQ(topic("CAM-1", "rpc/req"), "nj/v1/CAM-1/rpc/req");
  auto t = parse_topic("nj/v1/CAM-1/rpc/res");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->serial, "CAM-1");
  EXPECT_EQ(t->leaf, "rpc/res");
  EXPECT_FALSE(parse_topic("nj/v2/CAM-1/state"));
  EXPECT_FALSE(parse_topic("nj/v1/CAM+1/state"));
  EXPECT_FALSE(parse_topic("nj/v1/CAM-1/"));
  EXPECT_FALSE(parse_topic("nj/v1/CAM-1"));
  EXPECT_FALSE(valid_serial(std::string(65, 'a')));
  EXPECT_TRUE(valid_serial(std::string(64, 'a')));
}

TEST(Topics, ACameraMayUseOnlyItsOwnTopicsEachOneWay) {
  using A = DeviceAccess;
  for (const char* leaf : {"state", "event", "rpc/res", "telemetry", "claim"}) {
    EXPECT_TRUE(device_may("CAM-1", std::string("nj/v1/CAM-1/") + leaf, A::kPublish)) << leaf;
    EXPECT_FALSE(device_may("CAM-1", std::string("nj/v1/CAM-1/") + leaf, A::kSubscribe)) << leaf;
  }
  EXPECT_TRUE(device_may("CAM-1", "nj/v1/CAM-1/rpc/req", A::kSubscribe));
  EXPECT_FALSE(device_may("CAM-1", "nj/v1/CAM-1/rpc/req", A::kPublish));
  for (const char* t :
       {"nj/v1/CAM-2/state", "nj/v1/CAM-1x/state", "nj/v1/CAM-/state", "nj/v1/CAM-1",
        "nj/v1/CAM-1/", "nj/v1/CAM-1/state/x", "nj/v1/#", "nj/v1/+/state", "nj/v1/CAM-1/#",
        "nj/v1/CAM-1/+", "$SYS/broker", "nj/home/CAM-1/state", "NJ/v1/CAM-1/state", ""}) {
    EXPECT_FALSE(device_may("CAM-1", t, A::kPublish)) << t;
    EXPECT_FALSE(device_may("CAM-1", t, A::kSubscribe)) << t;
  }
  EXPECT_FALSE(device_may("+", "nj/v1/+/state", A::kPublish));  // a login that is no serial
  EXPECT_FALSE(device_may("#", "nj/v1/#/rpc/req", A::kSubscribe));
}

TEST(JsonInput, SizeAndDepthAreBoundedBeforeParsing) {
  const JsonLimits limits{100, 3};
  EXPECT_TRUE(parse_json(R"({"a": [1, {"b": 2}]})", limits));
  auto deep = parse_json(R"({"a": [[{"b": 2}]]})", limits);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().reason, Reason::kTooDeep);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(parse_json(R"({"a": "[[[[[[[[\"{{{{"})", limits));
  auto big = parse_json(std::string(101, ' '), limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().reason, Reason::kTooLarge);
  for (const char* bad : {"", "{", "nul", "{\"a\":}", "\xff\xfe", "{\"a\": \"\xc3\x28\"}"}) {
    auto r = parse_json(bad, limits);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().reason, Reason::kNotJson) << bad;
  }
  // A million brackets are refused without building anything.
  EXPECT_EQ(parse_json(std::string(1'000'000, '['), {2'000'000, 8}).error().reason,
            Reason::kTooDeep);
}

TEST(JsonInput, TheReaderChecksTypesAndRangesAndKeepsTheFirstProblem) {
  const auto j = json::parse(
      R"({"s": "ok", "ctl": "a\u0001b", "n": 5, "neg": -1, "big": 18446744073709551615,
          "f": 0.5, "b": true})");
  ObjectReader r(j);
  EXPECT_EQ(r.string("s", 8), "ok");
  EXPECT_EQ(r.integer("n", 0, 10), 5);
  EXPECT_EQ(r.count("n", 10), 5u);
  EXPECT_EQ(r.number("f", 0, 1), 0.5);
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_FALSE(r.string("absent", 8));
  EXPECT_TRUE(r.ok()) << "an absent optional field is no problem";
  EXPECT_FALSE(r.count("neg", 10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error()->field, "neg");
  EXPECT_FALSE(r.integer("big", 0, INT64_MAX)) << "2^64-1 is not read as -1";
  EXPECT_EQ(r.error()->field, "neg") << "the first problem is kept";

  ObjectReader more(j);
  EXPECT_FALSE(more.string("ctl", 8));
  EXPECT_EQ(more.error()->reason, Reason::kOutOfRange);
  ObjectReader free_text(j);
  EXPECT_EQ(free_text.string("ctl", 8, false, true), std::string("a\x01"
                                                                 "b"));
  ObjectReader wrong(j);
  EXPECT_FALSE(wrong.string("n", 8));
  EXPECT_EQ(wrong.error()->reason, Reason::kWrongType);
  ObjectReader missing(j);
  EXPECT_FALSE(missing.boolean("nope", true));
  EXPECT_EQ(missing.error()->reason, Reason::kMissing);
  ObjectReader not_object(json::array());
  EXPECT_FALSE(not_object.ok());
  EXPECT_FALSE(not_object.string("s", 8));
}

TEST(DeviceMessages, AStateReportIsRead) {
  auto s = parse_state(R"({"online": true, "ip": "192.0.2.7", "firmware": "1.2"})");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->online);
  EXPECT_EQ(s->ip, "192.0.2.7");
  EXPECT_EQ(s->firmware, "1.2");
  for (const char* bad :
       {R"({"online": "yes"})", R"({"online": true, "ip": 7})", R"({"online": true,
        "firmware": ["1"]})",
        R"({"ip": "x"})", R"([true])", R"("online")"}) {
    EXPECT_FALSE(parse_state(bad)) << bad;
  }
  EXPECT_FALSE(parse_state(R"({"online": true, "firmware": ")" + std::string(65, 'x') + "\"}"));
}

TEST(DeviceMessages, AStateReportCarriesTheCamerasSettings) {
  auto s = parse_state(
      R"({"online": true, "settings": {"night_mode": "on", "privacy_mode": true, "flip": false}})");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->settings);
  EXPECT_EQ(s->settings->night_mode, "on");
  EXPECT_EQ(s->settings->privacy_mode, true);
  EXPECT_EQ(s->settings->flip, false);
  EXPECT_FALSE(s->settings->mirror) << "what it did not say stays unknown";
  EXPECT_FALSE(parse_state(R"({"online": true})")->settings);
  // A bad setting refuses the report, naming the field.
  auto bad = parse_state(R"({"online": true, "settings": {"privacy_mode": "yes"}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "settings.privacy_mode");
  EXPECT_FALSE(parse_state(R"({"online": true, "settings": {"volume": 3}})"));
  EXPECT_FALSE(parse_state(R"({"online": true, "settings": [1]})"));
}

TEST(DeviceMessages, SettingsMergeWithTheLaterWinning) {
  CameraSettings base;
  base.mirror = true;
  base.night_mode = "auto";
  CameraSettings next;
  next.night_mode = "off";
  next.privacy_mode = true;
  const auto m = merged(base, next);
  EXPECT_EQ(to_json(m),
            json::parse(R"({"mirror": true, "night_mode": "off", "privacy_mode": true})"));
}

TEST(DeviceMessages, AMotionStartAndEndAreRead) {
  const auto start = parse_event(R"({"kind": "motion", "state": "start", "score": 0.7})");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->kind, "motion");
  EXPECT_TRUE(start->active);
  EXPECT_DOUBLE_EQ(start->score, 0.7);
  EXPECT_TRUE(start->zones.empty());
  const auto zoned =
      parse_event(R"({"kind": "motion", "state": "start", "zones": ["drive", "Tür"]})");
  ASSERT_TRUE(zoned);
  EXPECT_EQ(zoned->zones, (std::vector<std::string>{"drive", "Tür"}));
  const auto end = parse_event(R"({"kind": "motion", "state": "end"})");
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->active);
  EXPECT_EQ(end->score, 0);
}

TEST(DeviceMessages, AMalformedEventIsRefused) {
  for (const auto& bad :
       {json(nullptr),
        json::array(),
        json("motion"),
        json{{"kind", "motion"}},
        json{{"state", "start"}},
        json{{"kind", "motion"}, {"state", "begin"}},
        json{{"kind", "Motion!"}, {"state", "start"}},
        json{{"kind", ""}, {"state", "start"}},
        json{{"kind", std::string(33, 'a')}, {"state", "start"}},
        json{{"kind", 7}, {"state", "start"}},
        json{{"kind", "motion"}, {"state", true}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", 1.5}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", -0.1}},
        json{{"kind", "motion"}, {"state", "start"}, {"score", "high"}},
        json{{"kind", "motion"}, {"state", "start"}, {"zones", "drive"}},
        json{{"kind", "motion"}, {"state", "start"}, {"zones", {1}}},
        json{{"kind", "motion"}, {"state", "start"}, {"zones", {""}}},
        json{{"kind", "motion"}, {"state", "start"}, {"zones", {std::string(65, 'z')}}},
        json{{"kind", "motion"}, {"state", "start"}, {"zones", {"a\nb"}}},
        json{{"kind", "motion"},
             {"state", "start"},
             {"zones", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}}}}) {
    EXPECT_FALSE(parse_event(bad.dump())) << bad.dump();
  }
}

TEST(DeviceMessages, TelemetryIsBounded) {
  auto t = parse_telemetry(
      R"({"bytes_sent": 1000, "sd": {"capacity_bytes": 10, "used_bytes": 5, "health": "ok"}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bytes_sent, 1000u);
  ASSERT_TRUE(t->sd);
  EXPECT_EQ(t->sd->used_bytes, 5u);
  EXPECT_TRUE(parse_telemetry("{}"));
  for (const char* bad : {R"({"bytes_sent": -5})", R"({"bytes_sent": 1099511627776})",
                          R"({"bytes_sent": "5"})", R"({"bytes_sent": 1.5})",
                          R"({"sd": {"capacity_bytes": 10, "used_bytes": 20, "health": "ok"}})",
                          R"({"sd": "full"})", R"([])"}) {
    EXPECT_FALSE(parse_telemetry(bad)) << bad;
  }
  auto reason = parse_telemetry(R"({"bytes_sent": -5})").error().reason;
  EXPECT_EQ(reason_name(reason), "out_of_range");
}

TEST(DeviceMessages, AClaimIsAToken) {
  EXPECT_EQ(parse_claim(R"({"token": "abc-DEF_1"})")->token, "abc-DEF_1");
  for (const char* bad : {R"({"token": 5})", R"({"token": ""})", R"({"token": "a b"})", "{}"}) {
    EXPECT_FALSE(parse_claim(bad)) << bad;
  }
}

TEST(DeviceMessages, AnRpcResponseIsAResultOrAnError) {
  auto ok = parse_rpc_response(R"({"id": "7", "result": {"streaming": true}})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->id, "7");
  EXPECT_FALSE(ok->error);
  EXPECT_EQ(ok->result, json({{"streaming", true}}));
  auto failed = parse_rpc_response(R"({"id": "8", "error": {"code": "no_card", "message": "x"}})");
  ASSERT_TRUE(failed);
  ASSERT_TRUE(failed->error);
  EXPECT_EQ(failed->error->code, "no_card");
  EXPECT_EQ(parse_rpc_response(R"({"id": "9"})")->result, json::object());
  for (const char* bad :
       {R"({"id": 7, "result": {}})", R"({"result": {}})",
        R"({"id": "", "error": {"code": "no_card"}})", R"({"id": "1", "result": 5})",
        R"({"id": "1", "error": "broken"})", R"({"id": "1", "error": {"code": 3}})",
        R"({"id": "1", "error": {"code": "Bad Code!"}})"}) {
    EXPECT_FALSE(parse_rpc_response(bad)) << bad;
  }
}

TEST(DeviceMessages, RpcResultsAreCheckedPerMethodAndMadeCanonical) {
  auto settings = read_rpc_result(
      "config.set", json::parse(R"({"settings": {"night_mode": "on", "mirror": false}})"));
  ASSERT_TRUE(settings);
  EXPECT_EQ(*settings, json::parse(R"({"settings": {"night_mode": "on", "mirror": false}})"));
  EXPECT_FALSE(read_rpc_result("config.set", json::parse(R"({"settings": {"night_mode": 1}})")));
  EXPECT_FALSE(read_rpc_result("config.set", json::parse(R"({"settings": {"volume": 1}})")));
  EXPECT_FALSE(read_rpc_result("config.set", json::parse(R"({"settings": [1]})")));
  EXPECT_FALSE(read_rpc_result("config.set", json::object()));

  auto list = read_rpc_result("sd.list", json::parse(R"({"recordings": [
      {"name": "1-2.mp4", "start_ms": 1, "end_ms": 2, "bytes": 9, "extra": "dropped"}],
      "state": {"capacity_bytes": 10, "used_bytes": 9, "health": "ok"}})"));
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)["recordings"][0], json::parse(
                                          R"({"name": "1-2.mp4", "start_ms": 1, "end_ms": 2,
                                              "bytes": 9})"));
  for (const char* bad :
       {R"({"recordings": 5})", R"({"recordings": [{"name": "../x", "start_ms": 1, "end_ms": 2,
          "bytes": 9}]})",
        R"({"recordings": [{"name": "a", "start_ms": 3, "end_ms": 2, "bytes": 9}]})",
        R"({"recordings": [{"name": "a", "start_ms": 1, "end_ms": 2, "bytes": -9}]})",
        R"({"recordings": [], "state": {"capacity_bytes": "x"}})"}) {
    EXPECT_FALSE(read_rpc_result("sd.list", json::parse(bad))) << bad;
  }
  json many = {{"recordings", json::array()}};
  for (size_t i = 0; i <= kMaxCardRecordings; ++i) {
    many["recordings"].push_back({{"name", "a"}, {"start_ms", 1}, {"end_ms", 2}, {"bytes", 1}});
  }
  EXPECT_FALSE(read_rpc_result("sd.list", many));

  EXPECT_EQ(*read_rpc_result("sd.play", json::parse(R"({"duration_ms": 5, "start_ms": 2})")),
            json::parse(R"({"duration_ms": 5, "start_ms": 2})"));
  EXPECT_FALSE(read_rpc_result("sd.play", json::parse(R"({"duration_ms": "5"})")));
  EXPECT_EQ(*read_rpc_result("reboot", json::parse(R"({"anything": [1, 2]})")), json::object());
  EXPECT_EQ(*read_rpc_result("stream.start", json::object()), json({{"streaming", true}}));
  EXPECT_FALSE(read_rpc_result("stream.start", json::parse(R"({"streaming": "yes"})")));
  EXPECT_FALSE(read_rpc_result("no.such.method", json::object()));
}

TEST(DeviceMessages, ABindingIsATagOrNull) {
  EXPECT_EQ(read_binding(json::parse(R"({"binding": "abc"})"))->value(), "abc");
  auto nobody = read_binding(json::parse(R"({"binding": null})"));
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(nobody->has_value());
  for (const char* bad : {R"({})", R"({"binding": 5})", R"([])", R"({"binding": ["a"]})"}) {
    EXPECT_FALSE(read_binding(json::parse(bad))) << bad;
  }
}

TEST(Provision, AProofBindsThePayloadToTheLabelsCode) {
  const std::string payload = R"({"v":1,"server":"https://cloud.example","token":"t"})";
  const auto proof = provision_proof("abcd-efgh", payload);
  EXPECT_EQ(proof.size(), 64u);
  EXPECT_EQ(proof, provision_proof("ABCDEFGH", payload)) << "as typed or as printed";
  EXPECT_EQ(provision_proof("0I1L-ABCD", payload), provision_proof("o111 abcd", payload))
      << "the letters people confuse with digits count as the digits";
  EXPECT_TRUE(proof_matches("ABCD-EFGH", payload, proof));
  EXPECT_FALSE(proof_matches("ABCD-EFGJ", payload, proof)) << "another code";
  EXPECT_FALSE(proof_matches("ABCD-EFGH", payload + " ", proof)) << "another payload";
  EXPECT_FALSE(proof_matches("ABCD-EFGH", payload, proof.substr(1)));
  auto request = parse_provision_request(json{{"payload", payload}, {"proof", proof}}.dump());
  ASSERT_TRUE(request);
  EXPECT_EQ(request->payload, payload);
  for (const char* bad : {R"({"payload": "x"})", R"({"payload": 1, "proof": "ab"})",
                          R"({"payload": "x", "proof": "short"})", "[]", "{"}) {
    EXPECT_FALSE(parse_provision_request(bad)) << bad;
  }
}

}  // namespace
}  // namespace nj::device_protocol
