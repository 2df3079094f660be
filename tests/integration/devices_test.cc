// Devices end to end, with real parts: `nightjar serve` running its embedded mosquitto, and
// a real `nightjar-cam --simulate` that scans a QR payload. A camera is added by QR code,
// comes online, is woken for live view and plays over the WebSocket, takes settings, stops
// streaming once nobody watches, and is unbound, which cuts its stream at once. Another
// person can neither see nor watch it.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/time_zone.h"
#include "device_protocol/provision.h"
#include "integration/fixture.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Headers = std::map<std::string, std::string>;

class DevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.log();
    policy_ = server_.get("/api/v1/policy").json()["version"];
    owner_ = signed_up("owner@example.org");
    ASSERT_FALSE(owner_.empty());
  }
  void TearDown() override { EXPECT_EQ(server_.stop(), 0) << server_.log(); }

  std::string login(const std::string& email, const std::string& password) {
    auto r = server_.request("POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
                             json{{"email", email}, {"password", password}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().value("token", "");
  }
  std::string stranger() { return signed_up("stranger@example.org"); }
  std::string signed_up(const std::string& email) { return sign_up(server_, email); }
  HttpResult call(const std::string& method, const std::string& path, const std::string& bearer,
                  const json& body = nullptr) {
    Headers h = {{"Authorization", "Bearer " + bearer}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_.request(method, path, h, body.is_null() ? "" : body.dump());
  }
  json device_in_list(const std::string& bearer, const std::string& serial) {
    auto list = call("GET", "/api/v1/devices", bearer).json();
    for (const auto& d : list["devices"]) {
      if (d["serial"] == serial) return d;
    }
    return nullptr;
  }
  // A simulated camera given the QR payload; or (an empty payload) waiting in SoftAP mode
  // for the app to post it; or (a URL) simply pointed at the server.
  std::unique_ptr<BackgroundCommand> camera(const std::string& serial, const std::string& payload) {
    const auto dir = server_.data_dir() / ("cam-" + serial);
    std::filesystem::create_directories(dir);
    auto secret = server_.admin("device add --serial " + serial + " --model NJ-Sim");
    while (!secret.empty() && secret.back() == '\n') secret.pop_back();
    EXPECT_EQ(secret.size(), 32u);
    std::ofstream(dir / "secret") << secret << "\n";
    return launch(serial, payload);
  }
  // The same camera started again (a power cycle), in SoftAP mode.
  std::unique_ptr<BackgroundCommand> camera_again(const std::string& serial) {
    return launch(serial, "");
  }
  std::unique_ptr<BackgroundCommand> launch(const std::string& serial, const std::string& payload) {
    const auto dir = server_.data_dir() / ("cam-" + serial);
    const std::string cam = std::filesystem::path(NJ_BIN_PATH).parent_path() / "nightjar-cam";
    std::string quoted = payload;
    for (size_t at = 0; (at = quoted.find('\'', at)) != std::string::npos; at += 4) {
      quoted.replace(at, 1, "'\\''");
    }
    return std::make_unique<BackgroundCommand>(
        "exec '" + cam + "' --serial " + serial + " --secret-file '" + (dir / "secret").string() +
        "' --simulate --size 320x240 --fps 10 --telemetry-seconds 1 --sd-dir '" +
        (dir / "sd").string() + "' --sd-size-mb 4 --sd-segment-seconds 1 " +
        (payload.empty()               ? "--softap 127.0.0.1:0 --pairing-code " + label_code(serial)
         : payload.starts_with("http") ? "--server " + payload
                                       : "--provision '" + quoted + "'") +
        " >> '" + (dir / "log").string() + "' 2>&1");
  }

  std::string label_code(const std::string& serial) {
    return json::parse(server_.admin("device label --serial " + serial))["pairing_code"];
  }

  uint16_t mqtt_port() {
    const auto text = run_command("cat '" + (server_.data_dir() / "ports.json").string() + "'");
    return static_cast<uint16_t>(json::parse(text)["mqtt"].get<int>());
  }

  ServerProcess server_{"[devices]\nidle_stream_grace_ms = 3000\n"};
  std::string owner_, policy_;
};

TEST_F(DevicesTest, AddByQrWatchLiveSetUpStopAndUnbind) {
  // The owner asks for a bind token; the QR code comes as a PNG too.
  auto bind = call("POST", "/api/v1/bind-tokens", owner_,
                   {{"wifi_ssid", "home"}, {"wifi_password", "pass phrase"}});
  ASSERT_EQ(bind.status, 201) << bind.body;
  const auto payload = bind.json()["qr_payload"].get<std::string>();
  EXPECT_EQ(json::parse(payload)["wifi"]["ssid"], "home");
  EXPECT_EQ(bind.json()["qr_png"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);
  auto png = call(
      "GET", "/api/v1/bind-tokens/" + bind.json()["token"].get<std::string>() + "/qr.png", owner_);
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(png.body.substr(1, 3), "PNG");

  // The camera scans it: bound to the owner, online.
  auto cam = camera("SIM-A1", payload);
  ASSERT_TRUE(wait_for(
      [&] {
        auto d = device_in_list(owner_, "SIM-A1");
        return d.is_object() && d.value("online", false);
      },
      15s))
      << server_.log();
  const auto device = device_in_list(owner_, "SIM-A1");
  const std::string id = device["id"];
  EXPECT_EQ(device["role"], "owner");
  EXPECT_EQ(device["name"], "NJ-Sim");
  EXPECT_EQ(device["firmware"], "nightjar-cam 0.1");
  // The token is spent.
  EXPECT_EQ(
      call("GET", "/api/v1/bind-tokens/" + bind.json()["token"].get<std::string>() + "/qr.png",
           owner_)
          .status,
      404);

  // Someone else sees nothing of it, and cannot watch it.
  const auto other = stranger();
  EXPECT_TRUE(device_in_list(other, "SIM-A1").is_null());
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id, other).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/stream", other).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/snapshot.jpg", other).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/devices/" + id, other).status, 404);
  {
    WsClient ws;
    EXPECT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/live",
                         {{"Authorization", "Bearer " + other}}),
              404);
  }
  {
    WsClient ws;
    EXPECT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/sdcard/playback",
                         {{"Authorization", "Bearer " + other}}),
              404);
  }

  // The owner wakes it and watches: the stream comes within seconds.
  const auto woke = std::chrono::steady_clock::now();
  auto stream = call("POST", "/api/v1/devices/" + id + "/stream", owner_);
  ASSERT_EQ(stream.status, 200) << stream.body << server_.log();
  std::printf("camera woken in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - woke)
                                         .count()));
  {
    WsClient ws;
    ASSERT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/live",
                         {{"Authorization", "Bearer " + owner_}}),
              101);
    auto init = ws.receive(5s);
    ASSERT_TRUE(init);
    const auto j = json::parse(*init);
    EXPECT_EQ(j["type"], "init");
    EXPECT_EQ(j["width"], 320);
    EXPECT_EQ(j["height"], 240);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ws.receive(5s)) << "media message " << i;
  }
  auto snapshot = call("GET", "/api/v1/devices/" + id + "/snapshot.jpg", owner_);
  EXPECT_EQ(snapshot.status, 200);
  EXPECT_EQ(snapshot.header("content-type"), "image/jpeg");

  // What the camera sent is reported and shown to its owner, per day.
  ASSERT_TRUE(wait_for(
      [&] {
        auto days = call("GET", "/api/v1/devices/" + id + "/traffic", owner_).json()["days"];
        return days.size() == 1 && days[0]["bytes"].get<int64_t>() > 10'000;
      },
      8s));

  // Settings go to the camera and come back applied; bad ones are refused by it.
  auto set = call("PATCH", "/api/v1/devices/" + id, owner_,
                  {{"name", "Porch"}, {"settings", {{"night_mode", "on"}}}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["name"], "Porch");
  EXPECT_EQ(set.json()["settings"]["night_mode"], "on");
  auto bad = call("PATCH", "/api/v1/devices/" + id, owner_, {{"settings", {{"mirror", "yes"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(call("PATCH", "/api/v1/devices/" + id, owner_, {{"serial", "X"}}).status, 400);

  // The SD card: recordings listed with the card's state; one deleted; formatting needs an
  // explicit confirmation and then empties the card.
  json card;
  ASSERT_TRUE(wait_for(
      [&] {
        card = call("GET", "/api/v1/devices/" + id + "/sdcard", owner_).json();
        return card.contains("recordings") && card["recordings"].size() >= 2;
      },
      10s))
      << card.dump();
  EXPECT_EQ(card["state"]["health"], "ok");
  EXPECT_EQ(card["state"]["capacity_bytes"], 4 * 1024 * 1024);
  // The card's state also comes with telemetry, kept for when the camera is offline.
  ASSERT_TRUE(wait_for(
      [&] { return call("GET", "/api/v1/devices/" + id, owner_).json().contains("sd_card"); }, 5s));
  const auto reported = call("GET", "/api/v1/devices/" + id, owner_).json()["sd_card"];
  EXPECT_EQ(reported["capacity_bytes"], 4 * 1024 * 1024);
  EXPECT_EQ(reported["health"], "ok");
  EXPECT_TRUE(reported["reported_at"].is_string());

  // A recording of the card plays (sd.play): the camera pushes it, the owner watches it.
  const std::string first = card["recordings"][0]["name"];
  const std::string second = card["recordings"][1]["name"];
  auto play = call("POST", "/api/v1/devices/" + id + "/sdcard/recordings/" + second + "/play",
                   owner_, {{"offset_ms", 0}});
  ASSERT_EQ(play.status, 200) << play.body;
  EXPECT_GT(play.json()["duration_ms"].get<int64_t>(), 500);
  ASSERT_EQ(play.json()["playback"], "/api/v1/devices/" + id + "/sdcard/playback");
  {
    WsClient ws;
    ASSERT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/sdcard/playback",
                         {{"Authorization", "Bearer " + owner_}}),
              101);
    auto init = ws.receive(5s);
    ASSERT_TRUE(init);
    EXPECT_EQ(json::parse(*init)["width"], 320);
    int media = 0;
    bool ended = false;
    // About a second of recording, at its own pace; then the viewer is told it ended.
    for (int i = 0; i < 200 && !ended; ++i) {
      auto m = ws.receive(5s);
      if (!m || m->find("\"ended\"") != std::string::npos) {
        ended = true;
      } else {
        ++media;
      }
    }
    EXPECT_GE(media, 5);
    EXPECT_TRUE(ended) << "the playback ends with the recording";
  }
  // Not a recording of the card, or not a name at all: refused by the camera, nothing plays.
  EXPECT_EQ(
      call("POST", "/api/v1/devices/" + id + "/sdcard/recordings/1-2.mp4/play", owner_).status,
      404);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/sdcard/recordings/" + second + "/play", owner_,
                 {{"offset_ms", -5}})
                .status,
            400);
  {
    // A play token for the live stream does not open a recording of the card.
    const auto token = call("POST", "/api/v1/devices/" + id + "/stream-tokens", owner_)
                           .json()["token"]
                           .get<std::string>();
    WsClient ws;
    EXPECT_EQ(
        ws.connect(server_.http_port(), "/api/v1/devices/SIM-A1/sdcard/playback?token=" + token),
        403);
  }
  EXPECT_EQ(call("DELETE", "/api/v1/devices/" + id + "/sdcard/recordings/" + first, owner_).status,
            204);
  EXPECT_EQ(call("DELETE", "/api/v1/devices/" + id + "/sdcard/recordings/" + first, owner_).status,
            404);
  EXPECT_EQ(
      call("DELETE", "/api/v1/devices/" + id + "/sdcard/recordings/..%2Fsecret", owner_).status,
      404);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/sdcard/format", owner_, json::object()).status,
            400);
  EXPECT_EQ(
      call("POST", "/api/v1/devices/" + id + "/sdcard/format", owner_, {{"confirm", true}}).status,
      204);
  EXPECT_TRUE(
      call("GET", "/api/v1/devices/" + id + "/sdcard", owner_).json()["recordings"].empty());

  // Nobody watches any more: after the grace period the camera is told to stop. Its last
  // picture stays for the camera list, marked as not live.
  ASSERT_TRUE(wait_for(
      [&] {
        return call("GET", "/api/v1/devices/" + id + "/snapshot.jpg", owner_)
                   .header("x-snapshot-stale") == "1";
      },
      10s))
      << "the stream should stop without viewers";
  auto last = call("GET", "/api/v1/devices/" + id + "/snapshot.jpg", owner_);
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.header("content-type"), "image/jpeg");
  EXPECT_EQ(device_in_list(owner_, "SIM-A1")["picture"], true) << "the list says a picture exists";

  // Watching again, then unbinding: the viewer is told the stream ended, at once.
  ASSERT_EQ(call("POST", "/api/v1/devices/" + id + "/stream", owner_).status, 200);
  {
    WsClient ws;
    ASSERT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/live",
                         {{"Authorization", "Bearer " + owner_}}),
              101);
    ASSERT_TRUE(ws.receive(5s));
    EXPECT_EQ(call("DELETE", "/api/v1/devices/" + id, owner_).status, 204);
    bool ended = false;
    for (int i = 0; i < 200 && !ended; ++i) {
      auto m = ws.receive(5s);
      if (!m) {
        ended = true;  // closed
      } else if (m->find("\"ended\"") != std::string::npos) {
        ended = true;
      }
    }
    EXPECT_TRUE(ended);
  }
  EXPECT_TRUE(device_in_list(owner_, "SIM-A1").is_null());
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/stream", owner_).status, 404);
  // Its credentials are off: the broker refuses it until it is bound again (checked with
  // mosquitto's own client).
  auto listed = json::parse(server_.admin("device list"), nullptr, false);
  EXPECT_FALSE(listed.value("enabled", true));
  int status = 0;
  const auto refused = run_command("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(mqtt_port()) +
                                       " -u SIM-A1 -P \"$(cat '" +
                                       (server_.data_dir() / "cam-SIM-A1" / "secret").string() +
                                       "')\" -t nj/v1/SIM-A1/state -m x 2>&1",
                                   &status);
  EXPECT_NE(status, 0) << refused;
  EXPECT_NE(refused.find("not authorised"), std::string::npos) << refused;
}

// The settings the app shows are the camera's own (as it last reported them), a change
// sends only itself, and privacy mode stops the camera and shows on the timeline.
TEST_F(DevicesTest, SettingsRoundTripAndPrivacyModeStopsTheCamera) {
  auto bind = call("POST", "/api/v1/bind-tokens", owner_, json::object());
  ASSERT_EQ(bind.status, 201) << bind.body;
  auto cam = camera("SIM-P1", bind.json()["qr_payload"].get<std::string>());
  json device;
  ASSERT_TRUE(wait_for(
      [&] {
        device = device_in_list(owner_, "SIM-P1");
        return device.is_object() && device.value("online", false) && device.contains("settings") &&
               !device["settings"].empty();
      },
      15s))
      << device.dump() << server_.log();
  const std::string id = device["id"];
  const std::string path = "/api/v1/devices/" + id;
  // What the camera does, as it said it, with when: not the app's defaults.
  EXPECT_EQ(device["settings"]["night_mode"], "auto");
  EXPECT_EQ(device["settings"]["privacy_mode"], false);
  EXPECT_GT(parse_rfc3339_ms(device["settings_reported_at"]), 0);
  EXPECT_EQ(device["privacy_mode"], false);

  // A change comes back as the camera's whole settings, and stays after a reload.
  auto set = call("PATCH", path, owner_, {{"settings", {{"night_mode", "on"}}}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["settings"]["night_mode"], "on");
  EXPECT_EQ(set.json()["settings"]["mirror"], false);
  EXPECT_EQ(call("GET", path, owner_).json()["settings"]["night_mode"], "on");
  // Renaming (and saying where it is) leaves the camera's settings as they are.
  ASSERT_EQ(call("PATCH", path, owner_, {{"name", "Porch"}, {"place", "Hallway"}}).status, 200);
  EXPECT_EQ(call("GET", path, owner_).json()["place"], "Hallway");
  EXPECT_EQ(call("GET", path, owner_).json()["settings"]["night_mode"], "on");
  // A bad setting changes nothing at all, not even the name sent with it.
  auto bad = call("PATCH", path, owner_, {{"name", "Hall"}, {"settings", {{"flip", "yes"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["error"]["field"], "settings.flip");
  EXPECT_EQ(call("GET", path, owner_).json()["name"], "Porch");

  // Privacy mode (turned on while someone watches): the camera says so, stops and refuses
  // to stream, and the timeline shows the time as privacy; turned off, it streams again and
  // the period is closed.
  ASSERT_EQ(call("POST", path + "/stream", owner_).status, 200);
  WsClient watching;
  ASSERT_EQ(watching.connect(server_.http_port(), path + "/live",
                             {{"Authorization", "Bearer " + owner_}}),
            101);
  ASSERT_TRUE(watching.receive(5s));
  set = call("PATCH", path, owner_, {{"settings", {{"privacy_mode", true}}}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["privacy_mode"], true);
  auto wake = call("POST", path + "/stream", owner_);
  EXPECT_EQ(wake.status, 409) << wake.body;
  EXPECT_EQ(wake.json()["error"]["code"], "privacy_mode");
  auto timeline = call("GET", path + "/recordings", owner_).json();
  ASSERT_EQ(timeline["privacy"].size(), 1u) << timeline.dump();
  ASSERT_EQ(call("PATCH", path, owner_, {{"settings", {{"privacy_mode", false}}}}).status, 200);
  wake = call("POST", path + "/stream", owner_);
  EXPECT_EQ(wake.status, 200) << wake.body;
  {  // and plays: the first thing sent is its init, then media
    WsClient ws;
    ASSERT_EQ(
        ws.connect(server_.http_port(), path + "/live", {{"Authorization", "Bearer " + owner_}}),
        101);
    auto first = ws.receive(5s);
    ASSERT_TRUE(first);
    EXPECT_NE(first->find("\"init\""), std::string::npos) << *first;
  }
  timeline = call("GET", path + "/recordings", owner_).json();
  ASSERT_EQ(timeline["privacy"].size(), 1u) << timeline.dump();
  EXPECT_LT(parse_rfc3339_ms(timeline["privacy"][0]["end"]), parse_rfc3339_ms(timeline["to"]));
  EXPECT_LE(parse_rfc3339_ms(timeline["privacy"][0]["start"]),
            parse_rfc3339_ms(timeline["privacy"][0]["end"]));

  // A viewer sees whether it is in privacy mode, not its settings.
  const auto viewer = signed_up("viewer@example.org");
  auto share =
      call("POST", path + "/shares", owner_, {{"email", "viewer@example.org"}, {"role", "viewer"}});
  ASSERT_EQ(share.status, 201) << share.body;
  ASSERT_EQ(
      call("POST", "/api/v1/shares/" + share.json()["id"].get<std::string>() + "/accept", viewer)
          .status,
      200);
  const auto seen = call("GET", path, viewer).json();
  EXPECT_EQ(seen["privacy_mode"], false);
  EXPECT_FALSE(seen.contains("settings")) << seen.dump();
  EXPECT_FALSE(seen.contains("ip")) << "the camera's address is for those who manage it";

  // Unbinding ends the binding's privacy record with its recordings.
  ASSERT_EQ(call("DELETE", path, owner_).status, 204);
  auto rows = server_.sql("SELECT count(*) FROM device_privacy_periods");
  EXPECT_EQ(rows, "0\n");
  rows = server_.sql("SELECT name || '|' || place FROM devices WHERE serial = 'SIM-P1'");
  EXPECT_EQ(rows, "|\n") << "its name and place are the last owner's: cleared";
}

// A privacy schedule in the owner's time zone: inside its hours the server turns privacy
// mode on by itself; the owner's own switch then wins until the next edge; the app is told
// when the schedule next acts.
TEST_F(DevicesTest, APrivacyScheduleTurnsPrivacyModeOnInItsHours) {
  auto bind = call("POST", "/api/v1/bind-tokens", owner_, json::object());
  ASSERT_EQ(bind.status, 201) << bind.body;
  auto cam = camera("SIM-PS1", bind.json()["qr_payload"].get<std::string>());
  json device;
  ASSERT_TRUE(wait_for(
      [&] {
        device = device_in_list(owner_, "SIM-PS1");
        return device.is_object() && device.value("online", false);
      },
      15s))
      << server_.log();
  const std::string path = "/api/v1/devices/" + device["id"].get<std::string>();

  // A window from two minutes ago to half an hour from now, on Kolkata's clock (UTC+05:30).
  TimeZones zones;
  auto kolkata = zones.find("Asia/Kolkata");
  ASSERT_NE(kolkata, nullptr);
  const auto hhmm = [&](int64_t unix_s) {
    const int64_t local = unix_s + kolkata->offset_at(unix_s);
    const int64_t minute = ((local / 60) % 1440 + 1440) % 1440;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", int(minute / 60), int(minute % 60));
    return std::string(buf);
  };
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const json schedule = {{"time_zone", "Asia/Kolkata"},
                         {"windows",
                          {{{"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
                            {"start", hhmm(now_s - 120)},
                            {"end", hhmm(now_s + 1800)}}}}};

  // Bad schedules change nothing: an unknown zone, a window that does not end.
  auto bad = call("PATCH", path, owner_,
                  {{"name", "Nursery"},
                   {"privacy_schedule",
                    {{"time_zone", "Mars/Olympus_Mons"}, {"windows", schedule["windows"]}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["error"]["field"], "privacy_schedule.time_zone");
  json endless = schedule;
  endless["windows"][0]["end"] = endless["windows"][0]["start"];
  bad = call("PATCH", path, owner_, {{"privacy_schedule", endless}});
  EXPECT_EQ(bad.json()["error"]["field"], "privacy_schedule.windows.0.end") << bad.body;
  EXPECT_TRUE(call("GET", path, owner_).json()["privacy_schedule"].is_null());
  EXPECT_NE(call("GET", path, owner_).json()["name"], "Nursery");

  auto set = call("PATCH", path, owner_, {{"privacy_schedule", schedule}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["privacy_schedule"]["time_zone"], "Asia/Kolkata");
  EXPECT_EQ(set.json()["privacy_schedule"]["enabled"], true);
  // It next acts when the window ends, turning privacy mode off.
  const json next = set.json()["privacy_schedule_next"];
  ASSERT_TRUE(next.is_object()) << set.body;
  EXPECT_EQ(next["privacy_mode"], false);
  const int64_t ends_ms = parse_rfc3339_ms(next["at"]);
  EXPECT_GT(ends_ms, (now_s + 1740) * 1000);
  EXPECT_LE(ends_ms, (now_s + 1800) * 1000);

  // Inside its hours: the server turns privacy mode on by itself, and the camera stops.
  ASSERT_TRUE(
      wait_for([&] { return call("GET", path, owner_).json()["privacy_mode"] == true; }, 10s))
      << server_.log();
  auto wake = call("POST", path + "/stream", owner_);
  EXPECT_EQ(wake.json()["error"]["code"], "privacy_mode") << wake.body;

  // The owner turns it off: the schedule leaves it off until its next edge.
  ASSERT_EQ(call("PATCH", path, owner_, {{"settings", {{"privacy_mode", false}}}}).status, 200);
  std::this_thread::sleep_for(5s);  // two and a half of the scheduler's ticks
  EXPECT_EQ(call("GET", path, owner_).json()["privacy_mode"], false);
  EXPECT_EQ(call("POST", path + "/stream", owner_).status, 200);

  // A viewer is not shown the schedule; null removes it.
  const auto viewer = signed_up("schedule-viewer@example.org");
  auto share = call("POST", path + "/shares", owner_,
                    {{"email", "schedule-viewer@example.org"}, {"role", "viewer"}});
  ASSERT_EQ(share.status, 201) << share.body;
  ASSERT_EQ(
      call("POST", "/api/v1/shares/" + share.json()["id"].get<std::string>() + "/accept", viewer)
          .status,
      200);
  EXPECT_FALSE(call("GET", path, viewer).json().contains("privacy_schedule"));
  EXPECT_EQ(call("PATCH", path, viewer, {{"privacy_schedule", nullptr}}).status, 403);
  set = call("PATCH", path, owner_, {{"privacy_schedule", nullptr}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(set.json()["privacy_schedule"].is_null());
  EXPECT_FALSE(set.json().contains("privacy_schedule_next"));
}

// SoftAP provisioning: the phone joins the camera's hotspot and the app posts the payload
// to the camera, which then joins the cloud and binds itself.
TEST_F(DevicesTest, ACameraInSoftApModeTakesThePayloadFromTheApp) {
  auto cam = camera("SIM-AP1", "");
  const auto log = server_.data_dir() / "cam-SIM-AP1" / "log";
  uint16_t port = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        const auto text = run_command("cat '" + log.string() + "'");
        const auto at = text.find("cam.softap.listening port=");
        if (at == std::string::npos) return false;
        port = static_cast<uint16_t>(std::atoi(text.c_str() + at + 26));
        return port != 0;
      },
      10s));
  const auto http = [&](const std::string& method, const std::string& path,
                        const std::string& body) {
    RawConnection c(port);
    if (!c.connected()) return std::string();
    c.send(method + " " + path + " HTTP/1.1\r\nHost: 192.168.4.1\r\nConnection: close\r\n" +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    return c.read_all(3s);
  };
  // Idle connections from a stranger on the hotspot do not block the app for long.
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<RawConnection>(port));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(idle.front()->closed_within(7s)) << "an idle connection is timed out";
  idle.clear();
  const auto about = http("GET", "/", "");
  EXPECT_NE(about.find("200 OK"), std::string::npos) << about;
  EXPECT_NE(about.find("\"serial\":\"SIM-AP1\""), std::string::npos) << about;
  EXPECT_NE(http("POST", "/provision", "{\"v\":1}").find("400"), std::string::npos);
  EXPECT_NE(http("POST", "/provision", std::string(10'000, '{')).find("413"), std::string::npos);

  auto bind = call("POST", "/api/v1/bind-tokens", owner_,
                   {{"wifi_ssid", "home"}, {"wifi_password", "pass phrase"}});
  ASSERT_EQ(bind.status, 201);
  const std::string payload = bind.json()["qr_payload"];
  // Anyone on the hotspot, without the label's code: refused, and soon locked out.
  const auto forged =
      json{{"payload", payload}, {"proof", device_protocol::provision_proof("ZZZZ-ZZZZ", payload)}}
          .dump();
  EXPECT_NE(http("POST", "/provision", forged).find("403"), std::string::npos);
  EXPECT_NE(http("POST", "/provision", payload).find("400"), std::string::npos)
      << "a bare payload, without a proof";
  for (int i = 0; i < 4; ++i) (void)http("POST", "/provision", forged);
  const auto locked = http("POST", "/provision", forged);
  EXPECT_NE(locked.find("429"), std::string::npos) << locked;
  EXPECT_NE(locked.find("Retry-After"), std::string::npos) << locked;
  // The app, which read the code from the label: taken (after the lock, which the app
  // sees in Retry-After; a test waits it out with a fresh camera instead).
  cam.reset();
  std::this_thread::sleep_for(200ms);
  cam = camera_again("SIM-AP1");
  ASSERT_TRUE(wait_for(
      [&] {
        const auto text = run_command("cat '" + log.string() + "'");
        const auto at = text.rfind("cam.softap.listening port=");
        if (at == std::string::npos) return false;
        const auto p = static_cast<uint16_t>(std::atoi(text.c_str() + at + 26));
        if (p == port) return false;
        port = p;
        return true;
      },
      10s));
  const auto proved =
      json{{"payload", payload},
           {"proof", device_protocol::provision_proof(label_code("SIM-AP1"), payload)}}
          .dump();
  const auto posted = http("POST", "/provision", proved);
  EXPECT_NE(posted.find("200 OK"), std::string::npos) << posted;
  ASSERT_TRUE(wait_for(
      [&] {
        const auto d = device_in_list(owner_, "SIM-AP1");
        return d.is_object() && d["online"] == true;
      },
      15s))
      << run_command("cat '" + log.string() + "'");
  // Its job done, the endpoint is gone; the camera remembers only where its cloud is.
  EXPECT_EQ(http("POST", "/provision", payload).find("200 OK"), std::string::npos);
  const auto remembered =
      run_command("cat '" + (server_.data_dir() / "cam-SIM-AP1" / "cloud.json").string() + "'");
  EXPECT_NE(remembered.find("http://"), std::string::npos) << remembered;
  EXPECT_EQ(remembered.find("pass phrase"), std::string::npos);
  EXPECT_EQ(remembered.find(bind.json()["token"].get<std::string>()), std::string::npos);
}

// A camera that cannot scan a code is added by hand: the serial and pairing code printed on
// its label. Wrong codes are throttled.
TEST_F(DevicesTest, ACameraIsAddedByTheSerialAndPairingCodeOnItsLabel) {
  auto cam = camera("SIM-L1", "http://127.0.0.1:" + std::to_string(server_.http_port()));
  const auto label = json::parse(server_.admin("device label --serial SIM-L1"));
  const std::string code = label["pairing_code"];
  ASSERT_EQ(code.size(), 9u);

  // Guessing: the same answer for a wrong code and an unknown serial, then a lock.
  const auto guesser = signed_up("guesser@example.org");
  const auto wrong = call("POST", "/api/v1/devices", guesser,
                          {{"serial", "SIM-L1"}, {"pairing_code", "0000-0000"}});
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  const auto unknown =
      call("POST", "/api/v1/devices", guesser, {{"serial", "NO-SUCH"}, {"pairing_code", code}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.json()["error"]["message"], wrong.json()["error"]["message"]);
  int status = 0;
  for (int i = 0; i < 10 && status != 429; ++i) {
    status = call("POST", "/api/v1/devices", guesser,
                  {{"serial", "SIM-L1"}, {"pairing_code", "1111-111" + std::to_string(i % 10)}})
                 .status;
  }
  EXPECT_EQ(status, 429) << "wrong codes are throttled";
  EXPECT_EQ(call("POST", "/api/v1/devices", guesser, {{"serial", "SIM-L1"}, {"pairing_code", code}})
                .status,
            429)
      << "even the right code waits out the lock";
  EXPECT_TRUE(device_in_list(guesser, "SIM-L1").is_null());

  // The owner, with the label: added, online, watchable.
  const auto added =
      call("POST", "/api/v1/devices", owner_, {{"serial", "SIM-L1"}, {"pairing_code", code}});
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json()["role"], "owner");
  const std::string id = added.json()["id"];
  ASSERT_TRUE(wait_for([&] { return device_in_list(owner_, "SIM-L1")["online"] == true; }, 15s))
      << run_command("cat '" + (server_.data_dir() / "cam-SIM-L1" / "log").string() + "'")
      << server_.log();
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/stream", owner_).status, 200);
  // Someone else holding the label now: the owner must remove it first.
  const auto other = stranger();
  EXPECT_EQ(
      call("POST", "/api/v1/devices", other, {{"serial", "SIM-L1"}, {"pairing_code", code}}).status,
      409);
  EXPECT_EQ(call("POST", "/api/v1/devices", owner_, {{"serial", "SIM-L1"}}).status, 400);
}

TEST_F(DevicesTest, ASharedPersonGetsTheirRoleAndLosesItAtOnce) {
  auto bind = call("POST", "/api/v1/bind-tokens", owner_);
  auto cam = camera("SIM-S1", bind.json()["qr_payload"].get<std::string>());
  ASSERT_TRUE(wait_for([&] { return device_in_list(owner_, "SIM-S1").is_object(); }, 15s));
  const std::string id = device_in_list(owner_, "SIM-S1")["id"];
  const auto friend_ = signed_up("friend@example.org");

  auto invite = call("POST", "/api/v1/devices/" + id + "/shares", owner_,
                     {{"email", "Friend@Example.org"}, {"role", "viewer"}});
  ASSERT_EQ(invite.status, 201) << invite.body;
  const std::string share = invite.json()["id"];
  EXPECT_NE(server_.admin("outbox").find("shared the camera"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id, friend_).status, 404) << "not before accepting";
  auto mine = call("GET", "/api/v1/shares", friend_).json()["shares"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["state"], "pending");
  ASSERT_EQ(call("POST", "/api/v1/shares/" + share + "/accept", friend_).status, 200);

  // A viewer watches; nothing more.
  auto seen = device_in_list(friend_, "SIM-S1");
  ASSERT_TRUE(seen.is_object());
  EXPECT_EQ(seen["role"], "viewer");
  ASSERT_EQ(call("POST", "/api/v1/devices/" + id + "/stream", friend_).status, 200);
  EXPECT_EQ(call("PATCH", "/api/v1/devices/" + id, friend_, {{"name", "x"}}).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/reboot", friend_).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/traffic", friend_).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/sdcard", friend_).status, 403);
  EXPECT_EQ(
      call("POST", "/api/v1/devices/" + id + "/sdcard/recordings/1-2.mp4/play", friend_).status,
      403);
  {
    WsClient ws;
    EXPECT_EQ(ws.connect(server_.http_port(), "/api/v1/devices/" + id + "/sdcard/playback",
                         {{"Authorization", "Bearer " + friend_}}),
              403);
  }
  EXPECT_FALSE(seen.contains("sd_card")) << "a viewer is not shown the card";
  EXPECT_EQ(
      call("POST", "/api/v1/devices/" + id + "/sdcard/format", friend_, {{"confirm", true}}).status,
      403);
  EXPECT_EQ(call("DELETE", "/api/v1/devices/" + id, friend_).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/shares", friend_).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/shares", friend_,
                 {{"email", "x@example.org"}, {"role", "viewer"}})
                .status,
            404);

  // A stranger is refused by every device route.
  const auto stranger_ = stranger();
  const std::string base = "/api/v1/devices/" + id;
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", base},
      {"PATCH", base},
      {"DELETE", base},
      {"POST", base + "/stream"},
      {"POST", base + "/reboot"},
      {"POST", base + "/stream-tokens"},
      {"GET", base + "/traffic"},
      {"GET", base + "/sdcard"},
      {"POST", base + "/sdcard/format"},
      {"DELETE", base + "/sdcard/recordings/1-2.mp4"},
      {"POST", base + "/sdcard/recordings/1-2.mp4/play"},
      {"GET", base + "/shares"},
      {"POST", base + "/shares"},
      {"DELETE", base + "/shares/" + share},
      {"GET", base + "/snapshot.jpg"},
      {"GET", base + "/live.m3u8"},
      {"GET", base + "/hls/init.mp4"},
      {"POST", "/api/v1/shares/" + share + "/accept"},
      {"POST", "/api/v1/shares/" + share + "/decline"}};
  for (const auto& [method, path] : routes) {
    const json body = method == "PATCH" ? json{{"name", "mine"}}
                      : method == "POST" && path.ends_with("/shares")
                          ? json{{"email", "s@example.org"}, {"role", "admin"}}
                          : json(nullptr);
    const int status = call(method, path, stranger_, body).status;
    EXPECT_TRUE(status == 404 || status == 403) << method << " " << path << " → " << status;
  }
  {
    WsClient ws;
    EXPECT_EQ(
        ws.connect(server_.http_port(), base + "/live", {{"Authorization", "Bearer " + stranger_}}),
        404);
  }
  EXPECT_EQ(device_in_list(owner_, "SIM-S1")["name"], "NJ-Sim") << "the stranger changed nothing";

  // Revoked while watching: the open live view ends at once, and access is gone.
  {
    WsClient ws;
    ASSERT_EQ(
        ws.connect(server_.http_port(), base + "/live", {{"Authorization", "Bearer " + friend_}}),
        101);
    ASSERT_TRUE(ws.receive(5s));
    const auto revoked_at = std::chrono::steady_clock::now();
    ASSERT_EQ(call("DELETE", base + "/shares/" + share, owner_).status, 204);
    bool ended = false;
    for (int i = 0; i < 500 && !ended; ++i) {
      auto m = ws.receive(3s);
      ended = !m || m->find("access_revoked") != std::string::npos;
    }
    EXPECT_TRUE(ended);
    EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 2s);
  }
  EXPECT_EQ(call("GET", base, friend_).status, 404);
  EXPECT_EQ(call("POST", base + "/stream", friend_).status, 404);
  EXPECT_TRUE(device_in_list(friend_, "SIM-S1").is_null());
}

TEST_F(DevicesTest, OfflineRpcFailsFastAndABrokerRestartIsSurvived) {
  auto bind = call("POST", "/api/v1/bind-tokens", owner_);
  ASSERT_EQ(bind.status, 201);
  auto cam = camera("SIM-C1", bind.json()["qr_payload"].get<std::string>());
  ASSERT_TRUE(wait_for(
      [&] {
        auto d = device_in_list(owner_, "SIM-C1");
        return d.is_object() && d.value("online", false);
      },
      15s));
  const std::string id = device_in_list(owner_, "SIM-C1")["id"];

  // mosquitto is killed: the supervisor starts it again, and the server and the camera
  // reconnect by themselves; the camera can be woken afterwards.
  const std::string pattern =
      "[m]osquitto -c " + (server_.data_dir() / "mqtt" / "mosquitto.conf").string();
  run_command("pkill -KILL -f '" + pattern + "'");
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(wait_for(
      [&] { return call("POST", "/api/v1/devices/" + id + "/stream", owner_).status == 200; }, 20s))
      << server_.log();

  // The camera goes away: its last will says offline, and commands fail at once.
  cam.reset();
  ASSERT_TRUE(wait_for(
      [&] {
        auto d = device_in_list(owner_, "SIM-C1");
        return d.is_object() && !d.value("online", true);
      },
      10s));
  const auto started = std::chrono::steady_clock::now();
  auto r = call("POST", "/api/v1/devices/" + id + "/reboot", owner_);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "device_offline");
  EXPECT_LT(took, 500ms);
  r = call("PATCH", "/api/v1/devices/" + id, owner_, {{"settings", {{"mirror", true}}}});
  EXPECT_EQ(r.status, 409) << r.body;
}

// A camera provisioned by a payload gives its secret only to the broker whose certificate
// the payload carries (#12, item 5): over TLS, to that certificate alone.
TEST_F(DevicesTest, AProvisionedCameraTalksOnlyToThePinnedBroker) {
  auto bind = call("POST", "/api/v1/bind-tokens", owner_);
  ASSERT_EQ(bind.status, 201);
  const auto payload = json::parse(bind.json()["qr_payload"].get<std::string>());
  ASSERT_TRUE(payload.contains("mqtts")) << payload.dump();
  EXPECT_NE(payload["broker_cert"].get<std::string>().find("BEGIN CERTIFICATE"), std::string::npos);
  const auto ports =
      json::parse(run_command("cat '" + (server_.data_dir() / "ports.json").string() + "'"));
  EXPECT_EQ(payload["mqtts"], "mqtts://127.0.0.1:" + std::to_string(ports["mqtts"].get<int>()));

  // Another certificate in the payload (an impostor's broker would present its own): the
  // camera's TLS handshake with ours fails, and it never comes online.
  const auto other = server_.data_dir() / "impostor";
  std::filesystem::create_directories(other);
  run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout '" +
      (other / "k.pem").string() + "' -out '" + (other / "c.pem").string() +
      "' -days 1 -subj /CN=impostor 2>&1");
  auto forged = payload;
  forged["broker_cert"] = run_command("cat '" + (other / "c.pem").string() + "'");
  {
    auto cam = camera("SIM-T1", forged.dump());
    std::this_thread::sleep_for(4s);
    EXPECT_TRUE(device_in_list(owner_, "SIM-T1").is_null()) << "bound through an unverified broker";
    const auto log =
        run_command("cat '" + (server_.data_dir() / "cam-SIM-T1" / "log").string() + "'");
    EXPECT_EQ(log.find("cam.connected"), std::string::npos) << log;
  }
  // A payload naming no broker it can authenticate: the camera refuses and keeps its secret.
  auto bare = payload;
  bare.erase("mqtts");
  bare.erase("broker_cert");
  {
    auto cam = camera("SIM-T2", bare.dump());
    std::this_thread::sleep_for(1s);
    const auto log =
        run_command("cat '" + (server_.data_dir() / "cam-SIM-T2" / "log").string() + "'");
    EXPECT_NE(log.find("names no broker the camera can authenticate"), std::string::npos) << log;
  }
  // The real payload: over TLS, bound and online.
  auto cam = camera("SIM-T3", bind.json()["qr_payload"].get<std::string>());
  ASSERT_TRUE(wait_for(
      [&] {
        auto d = device_in_list(owner_, "SIM-T3");
        return d.is_object() && d.value("online", false);
      },
      15s))
      << run_command("cat '" + (server_.data_dir() / "cam-SIM-T3" / "log").string() + "'");
}

TEST_F(DevicesTest, AnOfflineCameraIsAClearErrorAndBadTokensBindNothing) {
  // Registered, never bound: nobody's.
  ASSERT_FALSE(server_.admin("device add --serial SIM-B1").empty());
  EXPECT_TRUE(device_in_list(owner_, "SIM-B1").is_null());
  // A camera presenting a made-up token is refused and stays unbound.
  const json fake = {{"v", 1},
                     {"server", "http://127.0.0.1:" + std::to_string(server_.http_port())},
                     {"mqtt", call("GET", "/api/v1/device-endpoints", owner_).json()["mqtt"]},
                     {"token", "not-a-real-token"}};
  auto cam = camera("SIM-B2", fake.dump());
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(device_in_list(owner_, "SIM-B2").is_null());
  EXPECT_EQ(call("GET", "/api/v1/devices", owner_).json()["devices"].size(), 0u);
  // Bad input on the API.
  EXPECT_EQ(call("POST", "/api/v1/bind-tokens", owner_, {{"wifi_ssid", 7}}).status, 400);
  EXPECT_EQ(server_.request("POST", "/api/v1/bind-tokens").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/devices/0123456789abcdef0123456789abcdef", owner_).status, 404);
}

// A gateway (nightjar-cam --source) relays its LAN camera only while not in privacy mode:
// turned on, it lets go of the LAN camera at once (nothing is pulled, so nothing can be
// pushed or written to its card); turned off, it pulls it again.
TEST_F(DevicesTest, AGatewayLetsGoOfItsLanCameraInPrivacyMode) {
  const auto token_for = [&](const std::string& purpose) {
    auto t =
        server_.admin("stream-token --serial LAN1 --purpose " + purpose + " --ttl-seconds 3600");
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  };
  const std::string rtsp = "rtsp://127.0.0.1:" + std::to_string(server_.rtsp_port());
  // The "LAN camera": ffmpeg pushing a test picture here, pulled back by the gateway over
  // RTSP as it would pull a camera on its LAN.
  BackgroundCommand lan(
      "exec ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 "
      "-c:v libx264 -preset ultrafast -tune zerolatency -g 10 -f rtsp -rtsp_transport tcp '" +
      rtsp + "/push/LAN1?token=" + token_for("push") + "' >> '" +
      (server_.data_dir() / "lan-ffmpeg.log").string() + "' 2>&1");
  const auto connections = [&] {
    const auto metrics = server_.get("/metrics").body;
    const std::string name = "\nnightjar_rtsp_connections ";
    const auto at = metrics.find(name);
    return at == std::string::npos ? -1 : std::atoi(metrics.c_str() + at + name.size());
  };
  ASSERT_TRUE(wait_for([&] { return connections() == 1; }, 15s)) << "the LAN camera's push";

  auto bind = call("POST", "/api/v1/bind-tokens", owner_, json::object());
  ASSERT_EQ(bind.status, 201) << bind.body;
  const auto dir = server_.data_dir() / "cam-GW1";
  add_device(server_, "GW1", "NJ-Gateway", dir);
  BackgroundCommand gateway("exec " + sh_quote(camera_binary()) + " --serial GW1 --secret-file " +
                            sh_quote((dir / "secret").string()) + " --source " +
                            sh_quote(rtsp + "/live/LAN1?token=" + token_for("play")) +
                            " --provision " +
                            sh_quote(bind.json()["qr_payload"].get<std::string>()) + " >> " +
                            sh_quote((dir / "log").string()) + " 2>&1");
  json device;
  ASSERT_TRUE(wait_for(
      [&] {
        device = device_in_list(owner_, "GW1");
        return device.is_object() && device.value("online", false);
      },
      15s))
      << device.dump() << server_.log();
  const std::string path = "/api/v1/devices/" + device["id"].get<std::string>();
  EXPECT_TRUE(wait_for([&] { return connections() == 2; }, 15s)) << "the gateway pulls";

  ASSERT_EQ(call("PATCH", path, owner_, {{"settings", {{"privacy_mode", true}}}}).status, 200);
  EXPECT_TRUE(wait_for([&] { return connections() == 1; }, 10s))
      << "the gateway still pulls its LAN camera in privacy mode";
  std::this_thread::sleep_for(3s);  // and does not try again
  EXPECT_EQ(connections(), 1);
  EXPECT_EQ(call("POST", path + "/stream", owner_).status, 409);

  ASSERT_EQ(call("PATCH", path, owner_, {{"settings", {{"privacy_mode", false}}}}).status, 200);
  EXPECT_TRUE(wait_for([&] { return connections() == 2; }, 15s)) << "pulled again";
  EXPECT_EQ(call("POST", path + "/stream", owner_).status, 200);
}

}  // namespace
}  // namespace nj::testing
