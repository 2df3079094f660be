// Two-way talk (#15) end to end: a person's audio over the talk WebSocket reaches a
// simulated camera's speaker (RTSP talk/{serial}, PCMU passed through), one speaker at a
// time, the owner may take the line, and nothing said is kept anywhere but the speaker.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/fixture.h"
#include "media/codec/audio.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Headers = std::map<std::string, std::string>;

// The power of one frequency in the samples (Goertzel).
double power_at(const std::vector<int16_t>& pcm, double hz, double rate = 8000) {
  const double w = 2 * M_PI * hz / rate, c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (int16_t x : pcm) {
    const double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

// µ-law samples hold a tone at `hz`, far above any other frequency.
void expect_tone(const std::string& ulaw, double hz) {
  std::vector<int16_t> pcm;
  for (unsigned char u : ulaw) pcm.push_back(media::codec::ulaw_to_pcm(u));
  const double tone = power_at(pcm, hz);
  for (double other : {300.0, 700.0, 1500.0, 2500.0}) {
    EXPECT_GT(tone, 100 * power_at(pcm, other)) << other << " Hz against " << hz << " Hz";
  }
}

class TalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.log();
    owner_ = sign_up(server_, "owner@example.org");
    auto bind = call("POST", "/api/v1/bind-tokens", owner_, json::object());
    ASSERT_EQ(bind.status, 201) << bind.body;
    dir_ = server_.data_dir() / "cam-TALK1";
    std::filesystem::create_directories(dir_);
    auto secret = server_.admin("device add --serial TALK1 --model NJ-Sim");
    while (!secret.empty() && secret.back() == '\n') secret.pop_back();
    std::ofstream(dir_ / "secret") << secret << "\n";
    std::string payload = bind.json()["qr_payload"];
    for (size_t at = 0; (at = payload.find('\'', at)) != std::string::npos; at += 4) {
      payload.replace(at, 1, "'\\''");
    }
    const std::string cam = std::filesystem::path(NJ_BIN_PATH).parent_path() / "nightjar-cam";
    camera_ = std::make_unique<BackgroundCommand>(
        "exec '" + cam + "' --serial TALK1 --secret-file '" + (dir_ / "secret").string() + "' " +
        camera_args() + " --provision '" + payload + "' >> '" + (dir_ / "log").string() + "' 2>&1");
    ASSERT_TRUE(wait_for(
        [&] {
          const json list = call("GET", "/api/v1/devices", owner_).json();  // kept: not a temporary
          for (const auto& d : list["devices"]) {
            if (d["serial"] == "TALK1" && d.value("online", false)) {
              id_ = d["id"];
              return true;
            }
          }
          return false;
        },
        15s))
        << server_.log();
  }
  void TearDown() override {
    camera_.reset();
    EXPECT_EQ(server_.stop(), 0) << server_.log();
  }
  HttpResult call(const std::string& method, const std::string& path, const std::string& bearer,
                  const json& body = nullptr) {
    Headers h = {{"Authorization", "Bearer " + bearer}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_.request(method, path, h, body.is_null() ? "" : body.dump());
  }
  std::filesystem::path speaker() const { return dir_ / "speaker.wav"; }
  // How the camera is started (besides its identity and its QR payload).
  virtual std::string camera_args() {
    return "--simulate --size 320x240 --fps 10 --speaker '" + speaker().string() + "'";
  }
  int talk(WsClient& ws, const std::string& bearer, const std::string& query = "") {
    return ws.connect(server_.http_port(), "/api/v1/devices/" + id_ + "/talk" + query,
                      {{"Authorization", "Bearer " + bearer}});
  }
  // The next text message's type (and the message), skipping nothing.
  static json next(WsClient& ws, std::chrono::milliseconds timeout = 5s) {
    auto m = ws.receive(timeout);
    return m ? json::parse(*m, nullptr, false) : json();
  }
  // The camera's call records once there are `n` of them (the owner's view), or what there
  // were after 5 s.
  json calls_when(size_t n) {
    json calls;
    EXPECT_TRUE(wait_for(
        [&] {
          calls = call("GET", "/api/v1/devices/" + id_ + "/calls", owner_).json()["calls"];
          return calls.size() == n;
        },
        5s))
        << calls.dump();
    return calls;
  }
  // Opens a line as `bearer` and waits until the camera listens.
  void open_line(WsClient& ws, const std::string& bearer) {
    ASSERT_EQ(talk(ws, bearer), 101);
    ASSERT_EQ(next(ws)["type"], "ready");
    ASSERT_EQ(next(ws)["type"], "listening");
  }
  // What the camera logged (for a failure's message).
  std::string camera_log() const {
    std::ifstream in(dir_ / "log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // What the speaker played: the WAV's µ-law samples.
  std::string played() const {
    std::ifstream in(speaker(), std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 58 ? all.substr(58) : std::string();
  }
  // Sends `seconds` of a tone at `hz` in 20 ms frames, in real time.
  static void say(WsClient& ws, double hz, double seconds) {
    const int frames = static_cast<int>(seconds * 50);
    auto due = std::chrono::steady_clock::now();
    for (int f = 0; f < frames; ++f) {
      std::string frame(1, '\x01');
      for (int i = 0; i < 160; ++i) {
        const double t = (f * 160 + i) / 8000.0;
        frame += static_cast<char>(
            media::codec::pcm_to_ulaw(static_cast<int16_t>(8000 * std::sin(2 * M_PI * hz * t))));
      }
      ASSERT_TRUE(ws.send(frame, true));
      due += 20ms;
      std::this_thread::sleep_until(due);
    }
  }

  ServerProcess server_;
  std::string owner_, id_;
  std::filesystem::path dir_;
  std::unique_ptr<BackgroundCommand> camera_;
};

TEST_F(TalkTest, WhatIsSaidIsPlayedByTheCameraAndOnlyTheCallIsKept) {
  WsClient ws;
  ASSERT_EQ(talk(ws, owner_), 101);
  const auto ready = next(ws);
  ASSERT_EQ(ready["type"], "ready") << ready.dump();
  EXPECT_EQ(ready["codec"], "PCMU");
  EXPECT_EQ(ready["rate"], 8000);
  const auto listening = next(ws);
  ASSERT_EQ(listening["type"], "listening") << listening.dump() << server_.log();
  say(ws, 1000, 2.0);
  ASSERT_TRUE(wait_for([&] { return played().size() >= 15'000; }, 5s)) << played().size();
  ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));

  // The speaker played the tone: 1 kHz, far above any other frequency.
  const std::string ulaw = played();
  expect_tone(ulaw, 1000);
  EXPECT_LE(ulaw.size(), 16'000u + 1'600u) << "no more than was said";

  // Nothing of it anywhere else: no file of the server's or the camera's holds any 64 bytes
  // of what was said (the speaker's WAV stands for the loudspeaker).
  const std::string piece = ulaw.substr(ulaw.size() / 2, 64);
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(server_.data_dir(), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path() == speaker()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find(piece), std::string::npos) << it->path();
  }

  // The call, and only that, is on record for the owner.
  const json calls = calls_when(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["user"], "owner@example.org");
  EXPECT_GE(calls[0]["duration_ms"].get<int64_t>(), 2000);
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_talk_frames_total{outcome=\"passed\"} 100"), std::string::npos)
      << metrics.substr(metrics.find("nightjar_talk"), 400);
}

TEST_F(TalkTest, OneSpeakerAtATimeFamilyAndUpAndTheOwnerMayTakeTheLine) {
  const auto share = [&](const std::string& email, const std::string& role) {
    const auto bearer = sign_up(server_, email);
    auto s = call("POST", "/api/v1/devices/" + id_ + "/shares", owner_,
                  {{"email", email}, {"role", role}});
    EXPECT_EQ(s.status, 201) << s.body;
    EXPECT_EQ(
        call("POST", "/api/v1/shares/" + s.json()["id"].get<std::string>() + "/accept", bearer)
            .status,
        200);
    return bearer;
  };
  const auto family = share("family@example.org", "family");
  const auto viewer = share("viewer@example.org", "viewer");
  const auto stranger = sign_up(server_, "stranger@example.org");
  {
    WsClient ws;
    EXPECT_EQ(talk(ws, viewer), 403) << "a viewer may watch, not talk";
    WsClient other;
    EXPECT_EQ(talk(other, stranger), 404);
    WsClient taker;
    EXPECT_EQ(talk(taker, family, "?take=1"), 403) << "only the owner takes the line";
  }
  WsClient fam;
  ASSERT_EQ(talk(fam, family), 101);
  ASSERT_EQ(next(fam)["type"], "ready");
  ASSERT_EQ(next(fam)["type"], "listening");
  // The owner asks without taking: busy, and told by whom.
  {
    WsClient ws;
    ASSERT_EQ(talk(ws, owner_), 101);
    const auto busy = next(ws);
    EXPECT_EQ(busy["type"], "busy") << busy.dump();
    EXPECT_EQ(busy["holder"], "family@example.org");
    EXPECT_FALSE(ws.receive(2s)) << "closed";
  }
  // The owner takes it: the family member is told, and the camera hears the owner at once.
  WsClient own;
  ASSERT_EQ(talk(own, owner_, "?take=1"), 101);
  ASSERT_EQ(next(own)["type"], "ready");
  EXPECT_EQ(next(own)["type"], "listening");
  const auto taken = next(fam);
  EXPECT_EQ(taken["type"], "ended");
  EXPECT_EQ(taken["reason"], "taken");
  // The family member, now asking: busy, but the holder is not named to them.
  {
    WsClient ws;
    ASSERT_EQ(talk(ws, family), 101);
    const auto busy = next(ws);
    EXPECT_EQ(busy["type"], "busy");
    EXPECT_TRUE(busy["holder"].is_null());
    EXPECT_EQ(busy["holder_is_owner"], true);
  }
  // A frame that is not what was agreed closes the call.
  ASSERT_TRUE(own.send(std::string("\x02garbage"), true));
  EXPECT_FALSE(own.receive(3s));
  // Privacy mode: no one talks through the camera.
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_, owner_, {{"settings", {{"privacy_mode", true}}}})
          .status,
      200);
  WsClient after;
  EXPECT_EQ(talk(after, owner_), 409);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/calls", family).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/calls", owner_).json()["calls"].size(), 2u);
}

// A talker who floods (5 s of audio sent at once) gets a second's burst through, the rest is
// dropped, the call and the camera go on, and real-time talk after it is heard.
TEST_F(TalkTest, AFloodingTalkerIsHeldToRealTime) {
  WsClient ws;
  ASSERT_NO_FATAL_FAILURE(open_line(ws, owner_));
  const auto flood_at = std::chrono::steady_clock::now();
  std::string frame(1, '\x01');
  for (int i = 0; i < 160; ++i) {
    frame += static_cast<char>(media::codec::pcm_to_ulaw(
        static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * i / 8000.0))));
  }
  for (int f = 0; f < 250; ++f) ASSERT_TRUE(ws.send(frame, true));
  std::this_thread::sleep_for(1500ms);
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - flood_at).count();
  const size_t played_after_flood = played().size();
  EXPECT_GT(played_after_flood, 0u);
  EXPECT_LE(played_after_flood, static_cast<size_t>(8000 * (1.0 + elapsed_s)) + 1600)
      << "more than a second ahead of real time got through";
  // Still talking: real-time audio after the flood is heard.
  say(ws, 1000, 1.0);
  EXPECT_TRUE(wait_for([&] { return played().size() >= played_after_flood + 6'000; }, 3s))
      << played().size();
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_talk_frames_total{outcome=\"dropped\"}"), std::string::npos);
  ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));
}

// Revoking the share of someone in a call ends the call at that moment; its record (who,
// how long) closes with it.
TEST_F(TalkTest, RevokingTheShareEndsTheCallAtOnce) {
  const std::string email = "family@example.org";
  const auto family = sign_up(server_, email);
  auto s = call("POST", "/api/v1/devices/" + id_ + "/shares", owner_,
                {{"email", email}, {"role", "family"}});
  ASSERT_EQ(s.status, 201) << s.body;
  const std::string share_id = s.json()["id"];
  ASSERT_EQ(call("POST", "/api/v1/shares/" + share_id + "/accept", family).status, 200);
  WsClient ws;
  ASSERT_NO_FATAL_FAILURE(open_line(ws, family));
  say(ws, 1000, 1.0);
  const auto revoked_at = std::chrono::steady_clock::now();
  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_ + "/shares/" + share_id, owner_).status, 204);
  // Told, then closed (or closed at once): either way nothing more is read from them.
  for (auto m = ws.receive(3s); m; m = ws.receive(3s)) {
    const auto message = json::parse(*m, nullptr, false);
    EXPECT_EQ(message.value("type", ""), "ended") << *m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 3s);
  const size_t heard = played().size();
  std::string frame(1, '\x01');
  frame.append(160, '\x10');
  ws.send(frame, true);  // too late: the line is gone
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(played().size(), heard) << "the camera played something after the revocation";
  const json calls = calls_when(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["user"], email);
  EXPECT_GE(calls[0]["duration_ms"].get<int64_t>(), 1000);
  EXPECT_LT(calls[0]["duration_ms"].get<int64_t>(), 5000);
}

// The call records go with the caller's account and with the binding, not later.
TEST_F(TalkTest, CallRecordsGoWithTheCallersAccountAndWithTheBinding) {
  const auto talk_a_second = [&](const std::string& bearer) {
    WsClient ws;
    ASSERT_NO_FATAL_FAILURE(open_line(ws, bearer));
    say(ws, 1000, 1.0);
    ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));
    EXPECT_FALSE(ws.receive(3s)) << "the call did not end";
  };
  const auto rows = [&](const std::string& where) {
    return std::atoi(server_.sql("SELECT count(*) FROM talk_calls WHERE " + where).c_str());
  };
  const std::string family_email = "family@example.org";
  const auto family = sign_up(server_, family_email);
  auto s = call("POST", "/api/v1/devices/" + id_ + "/shares", owner_,
                {{"email", family_email}, {"role", "family"}});
  ASSERT_EQ(s.status, 201) << s.body;
  ASSERT_EQ(call("POST", "/api/v1/shares/" + s.json()["id"].get<std::string>() + "/accept", family)
                .status,
            200);
  const std::string family_id = call("GET", "/api/v1/me", family).json()["id"];
  talk_a_second(family);
  talk_a_second(owner_);
  ASSERT_TRUE(wait_for([&] { return rows("device_id = '" + id_ + "'") == 2; }, 5s));
  // The family member leaves Nightjar: their call goes at once; the owner's stays.
  ASSERT_EQ(
      call("DELETE", "/api/v1/me", family, {{"password", "a long passphrase for " + family_email}})
          .status,
      204);
  EXPECT_EQ(rows("user_id = '" + family_id + "'"), 0);
  EXPECT_EQ(rows("device_id = '" + id_ + "'"), 1);
  // The owner unbinds the camera: its calls go with it.
  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_, owner_).status, 204);
  EXPECT_EQ(rows("device_id = '" + id_ + "'"), 0);
}

// A gateway (nightjar-cam --source) talks through its LAN camera: the camera here is
// GStreamer's own ONVIF RTSP server with an audio back-channel (tests/peers/onvif_peer.cc),
// which writes what it receives, decoded to µ-law, to a file.
class GatewayTalkTest : public TalkTest {
 protected:
  void SetUp() override {
    const auto dir =
        std::filesystem::temp_directory_path() / ("nj-onvif-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    received_ = dir / "backchannel.ulaw";
    port_file_ = dir / "port";
    start_peer("0");
    ASSERT_TRUE(wait_for([&] { return port() != 0; }, 10s)) << "the ONVIF peer did not start";
    TalkTest::SetUp();
  }
  // What the LAN camera's back-channel takes (onvif_peer's names).
  virtual std::string codec() const { return "pcmu"; }
  // The LAN camera: on any free port ("0"), or again on the one it had.
  void start_peer(const std::string& port) {
    const std::string peer = std::filesystem::path(NJ_BIN_PATH).parent_path() / "onvif_peer";
    peer_ = std::make_unique<BackgroundCommand>(
        "exec " + sh_quote(peer) + " " + sh_quote(received_.string()) + " " + port + " " + codec() +
        " > " + sh_quote(port_file_.string()) + " 2>&1");
  }
  std::string peer_log() const {
    std::ifstream in(port_file_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Talks (in half seconds) until the camera has heard something; false after 20 s.
  bool talk_until_heard(WsClient& ws) {
    for (int i = 0; i < 40 && received().empty(); ++i) say(ws, 1000, 0.5);
    return !received().empty();
  }
  void TearDown() override {
    TalkTest::TearDown();
    peer_.reset();
    std::filesystem::remove_all(received_.parent_path());
  }
  int port() const {
    std::ifstream in(port_file_);
    std::string word;
    int p = 0;
    in >> word >> p;
    return word == "port" ? p : 0;
  }
  std::string camera_args() override {
    return "--source rtsp://127.0.0.1:" + std::to_string(port()) + "/cam";
  }
  std::string received() const {
    std::ifstream in(received_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::filesystem::path received_, port_file_;
  std::unique_ptr<BackgroundCommand> peer_;
};

TEST_F(GatewayTalkTest, WhatIsSaidReachesTheLanCameraOverItsOnvifBackChannel) {
  WsClient ws;
  ASSERT_EQ(talk(ws, owner_), 101);
  ASSERT_EQ(next(ws)["type"], "ready");
  const auto listening = next(ws);
  ASSERT_EQ(listening["type"], "listening") << listening.dump() << server_.log();
  // The gateway sets up its back-channel session when the call begins (the camera builds
  // its pipeline then, seconds under load); what is said before it plays is dropped, as
  // live speech is. Talk until the camera hears, then 2 s more.
  ASSERT_TRUE(talk_until_heard(ws)) << "nothing reached the camera in 20 s\n"
                                    << camera_log() << peer_log();
  const size_t heard_from = received().size();
  say(ws, 1000, 2.0);
  ASSERT_TRUE(wait_for([&] { return received().size() >= heard_from + 8'000; }, 5s))
      << received().size() << " bytes reached the camera";
  expect_tone(received(), 1000);
  // A call longer than the RTSP client's media timeout (10 s) goes on: the back-channel
  // session is ended by the call, not by the camera sending nothing on it. (GStreamer's
  // server sends RTCP reports on it, so this peer would keep it open anyway; the camera
  // side no longer watches for media there at all.)
  say(ws, 1000, 11.0);
  const size_t before = received().size();
  ASSERT_GE(before, heard_from + 8'000u * 12);
  say(ws, 1000, 1.0);
  EXPECT_TRUE(wait_for([&] { return received().size() >= before + 6'000; }, 3s))
      << "the back-channel went quiet after " << before << " bytes";
  ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));
}

// The LAN camera restarts in the middle of a call: the gateway opens its back-channel
// again, and what is said after that is heard.
TEST_F(GatewayTalkTest, ABackChannelTheCameraDropsIsOpenedAgainWhileTheCallLasts) {
  WsClient ws;
  ASSERT_NO_FATAL_FAILURE(open_line(ws, owner_));
  ASSERT_TRUE(talk_until_heard(ws)) << "nothing reached the camera in 20 s\n"
                                    << camera_log() << peer_log();
  const int port_before = port();
  peer_.reset();
  std::filesystem::remove(received_);
  say(ws, 1000, 1.0);  // said while the camera is away: lost, and the call goes on
  start_peer(std::to_string(port_before));
  ASSERT_TRUE(wait_for([&] { return port() == port_before; }, 10s))
      << "the ONVIF peer did not come back on port " << port_before;
  ASSERT_TRUE(talk_until_heard(ws)) << "the back-channel was not opened again\n" << camera_log();
  say(ws, 1000, 1.0);
  expect_tone(received(), 1000);
  ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));
}

// A LAN camera whose back-channel takes A-law, AAC or Opus: the gateway converts (G.711 to
// G.711) or encodes what is said, and the camera hears the tone.
class GatewayCodecTalkTest : public GatewayTalkTest,
                             public ::testing::WithParamInterface<std::string> {
 protected:
  std::string codec() const override { return GetParam(); }
};

TEST_P(GatewayCodecTalkTest, TheCameraHearsTheToneInTheCodecItTakes) {
  WsClient ws;
  ASSERT_NO_FATAL_FAILURE(open_line(ws, owner_));
  ASSERT_TRUE(talk_until_heard(ws)) << "nothing reached the camera in 20 s\n"
                                    << camera_log() << peer_log();
  const size_t heard_from = received().size();
  say(ws, 1000, 2.0);
  ASSERT_TRUE(wait_for([&] { return received().size() >= heard_from + 8'000; }, 5s))
      << received().size() << " bytes reached the camera";
  // The camera's decoder settles in the first packets: the tone is judged after them.
  expect_tone(received().substr(heard_from), 1000);
  ASSERT_TRUE(ws.send_text(R"({"type":"hangup"})"));
}

INSTANTIATE_TEST_SUITE_P(Codecs, GatewayCodecTalkTest, ::testing::Values("pcma", "aac", "opus"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nj::testing
