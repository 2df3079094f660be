// Cloud recording end to end (issue #6), with real parts: `nightjar serve` with its
// embedded mosquitto, and a real `nightjar-cam --simulate` whose picture carries a 16-bit
// frame counter on its top row. A plan makes the server keep the camera streaming and
// record it; playback is checked frame by frame by decoding the counter with ffmpeg.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "integration/fixture.h"
#include "integration/http_receiver.h"
#include "integration/smtp_receiver.h"
#include "media/fmp4/demux.h"
#include "mqtt/client.h"
#include "recording/fragment_table.h"
#include "recording/test_store.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string base64_of(const std::string& text) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const uint32_t n = uint32_t(uint8_t(text[i])) << 16 | uint32_t(uint8_t(text[i + 1])) << 8 |
                       uint8_t(text[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(n >> k) & 63];
  }
  if (i < text.size()) {
    uint32_t n = uint32_t(uint8_t(text[i])) << 16;
    if (i + 1 < text.size()) n |= uint32_t(uint8_t(text[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < text.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The frame counters of every frame ffmpeg decodes from `input` (the simulator draws 16
// blocks across the top row: light for 1, dark for 0).
std::vector<int> frame_counters(const std::string& input, const std::string& bearer,
                                int width = 320) {
  const int block = width / 16;
  const std::string headers =
      input.starts_with("http") ? "-headers 'Authorization: Bearer " + bearer + "\r\n' " : "";
  const auto raw =
      run_command("ffmpeg -v error " + headers + "-i '" + input +
                  "' -vf crop=" + std::to_string(width) + ":" + std::to_string(block / 2) +
                  ":0:0 -fps_mode passthrough -f rawvideo -pix_fmt gray - 2>/dev/null");
  const size_t frame = static_cast<size_t>(width) * (block / 2);
  std::vector<int> out;
  for (size_t at = 0; at + frame <= raw.size(); at += frame) {
    int n = 0;
    for (int bit = 0; bit < 16; ++bit) {
      const auto px = static_cast<uint8_t>(raw[at + (block / 4) * width + bit * block + block / 2]);
      n = n << 1 | (px > 128 ? 1 : 0);
    }
    out.push_back(n);
  }
  return out;
}

class RecordingTest : public ::testing::Test {
 protected:
  explicit RecordingTest(const std::string& config =
                             "[recording]\nsegment_minutes = 1\n"
                             "reserve_mb = 0\n")
      : mqtt_port_(free_port()), server_(config, {"--mqtt-port", std::to_string(mqtt_port_)}) {}

  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.log();
    owner_ = sign_up(server_, "owner@example.org");
    secret_ = server_.admin("device add --serial REC-1 --model NJ-Sim");
    while (!secret_.empty() && secret_.back() == '\n') secret_.pop_back();
    ASSERT_EQ(secret_.size(), 32u);
    std::ofstream(server_.data_dir() / "rec-secret") << secret_ << "\n";
    const auto label = json::parse(server_.admin("device label --serial REC-1"));
    auto added = call("POST", "/api/v1/devices",
                      {{"serial", "REC-1"}, {"pairing_code", label["pairing_code"]}});
    ASSERT_EQ(added.status, 201) << added.body;
    id_ = added.json()["id"];
    ASSERT_NE(server_.admin("plan create --name week --days 7 --mode continuous"), "");
    ASSERT_NE(server_.admin("plan grant --serial REC-1 --plan week --for-days 30"), "");
  }
  void TearDown() override {
    camera_.reset();
    if (server_.running()) {
      EXPECT_EQ(server_.stop(), 0) << server_.log();
    }
  }

  HttpResult call(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + owner_}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_.request(method, path, h, body.is_null() ? "" : body.dump());
  }
  // Waits (up to 20 s) for the list to hold more motion events than `seen`, and counts them.
  void wait_for_motion_event(size_t& seen) {
    json events;
    EXPECT_TRUE(wait_for(
        [&] {
          events = call("GET", "/api/v1/events?kind=motion").json()["events"];
          return events.size() > seen;
        },
        20s))
        << server_.log();
    seen = events.size();
  }
  void start_camera(const std::string& extra = "") {
    const std::string cam = std::filesystem::path(NJ_BIN_PATH).parent_path() / "nightjar-cam";
    camera_ = std::make_unique<BackgroundCommand>(
        "exec '" + cam + "' --serial REC-1 --secret-file '" +
        (server_.data_dir() / "rec-secret").string() +
        "' --simulate --size 320x240 --fps 10 --gop-seconds 1 " + extra + " " +
        "--mqtt mqtt://127.0.0.1:" + std::to_string(mqtt_port_) + " >> '" +
        (server_.data_dir() / "cam.log").string() + "' 2>&1");
  }
  // The path of the first segment file the playback playlist from `from` names ("" if none).
  std::string first_segment_path(int64_t from) {
    const auto playlist =
        call("GET", "/api/v1/devices/" + id_ + "/playback.m3u8?from=" + std::to_string(from));
    const auto at = playlist.body.find("recordings/");
    if (playlist.status != 200 || at == std::string::npos) return "";
    return "/api/v1/devices/" + id_ + "/" +
           playlist.body.substr(at, playlist.body.find(".mp4", at) + 4 - at);
  }
  json recordings(int64_t from, int64_t to) {
    return call("GET", "/api/v1/devices/" + id_ + "/recordings?from=" + std::to_string(from) +
                           "&to=" + std::to_string(to))
        .json();
  }
  // How much is recorded in the last hour, in ms (the spans' total).
  int64_t recorded_ms() {
    const auto r = recordings(now_ms() - 3'600'000, now_ms() + 60'000);
    int64_t total = 0;
    for (const auto& s : r.value("spans", json::array())) {
      total += parse_ms(s["end"]) - parse_ms(s["start"]);
    }
    return total;
  }
  static int64_t parse_ms(const json& t) {
    std::tm tm{};
    int ms = 0;
    std::sscanf(t.get<std::string>().c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
  }
  std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_.http_port()) + path;
  }

  uint16_t mqtt_port_;
  ServerProcess server_;
  std::string owner_, secret_, id_;
  std::unique_ptr<BackgroundCommand> camera_;
};

TEST_F(RecordingTest, ContinuousAcrossFilesAndPlaysBackEveryFrame) {
  start_camera();
  // The plan keeps the camera streaming; recording starts by itself.
  ASSERT_TRUE(wait_for([&] { return recorded_ms() > 0; }, 30s))
      << server_.log() << run_command("cat '" + (server_.data_dir() / "cam.log").string() + "'")
      << call("GET", "/api/v1/devices/" + id_).body;
  ASSERT_TRUE(wait_for([&] { return recorded_ms() >= 75'000; }, 120s)) << server_.log();

  const auto r = recordings(now_ms() - 3'600'000, now_ms() + 60'000);
  ASSERT_EQ(r["spans"].size(), 1u) << "one continuous span: " << r.dump();
  EXPECT_EQ(r["gaps"].size(), 2u) << "before it and after it only: " << r.dump();
  EXPECT_EQ(r["plan"]["name"], "week");
  EXPECT_EQ(r["recorder"]["state"], "recording") << r.dump();
  EXPECT_GT(r["stored_bytes"].get<int64_t>(), 100'000);
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_recorders 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("nightjar_recorders_paused 0\n"), std::string::npos);
  // The operator's view of the space used, per device and per account.
  const auto usage = server_.admin("usage");
  EXPECT_NE(usage.find("\"device\":\"REC-1\""), std::string::npos) << usage;
  EXPECT_NE(usage.find("\"account\":\"owner@example.org\",\"bytes\""), std::string::npos) << usage;
  const int64_t start = parse_ms(r["spans"][0]["start"]);
  // Two files at least (one a minute), and the index says exactly what is in them.
  size_t files = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(server_.data_dir() / "media")) {
    files += e.is_regular_file() && e.path().extension() == ".mp4";
  }
  EXPECT_GE(files, 2u);

  // 20 s across the first file boundary (at about 60 s): every frame is there, in order.
  const auto playlist_path = "/api/v1/devices/" + id_ +
                             "/playback.m3u8?from=" + std::to_string(start + 50'000) +
                             "&to=" + std::to_string(start + 70'000);
  const auto playlist = call("GET", playlist_path);
  ASSERT_EQ(playlist.status, 200) << playlist.body;
  EXPECT_EQ(playlist.header("content-type"), "application/vnd.apple.mpegurl");
  size_t maps = 0;
  for (size_t at = 0; (at = playlist.body.find("#EXT-X-MAP", at)) != std::string::npos; ++at) {
    ++maps;
  }
  EXPECT_EQ(maps, 2u) << "two files: " << playlist.body;
  EXPECT_EQ(playlist.body.find("DISCONTINUITY"), std::string::npos) << playlist.body;
  const auto counters = frame_counters(url(playlist_path), owner_);
  ASSERT_GE(counters.size(), 200u) << "20 s at 10 fps, from the keyframe before";
  for (size_t i = 1; i < counters.size(); ++i) {
    ASSERT_EQ(counters[i], (counters[i - 1] + 1) & 0xffff)
        << "frame " << i << " of " << counters.size() << " across the file boundary";
  }

  // A clip across the same boundary, to download: a standard MP4 of exactly the 10 s asked
  // for (to a frame), starting at the instant asked for, not at the keyframe before it.
  const int64_t clip_from = start + 55'350, clip_to = start + 65'350;
  const auto clip_path = "/api/v1/devices/" + id_ + "/clip.mp4?from=" + std::to_string(clip_from) +
                         "&to=" + std::to_string(clip_to);
  const auto clip = call("GET", clip_path);
  ASSERT_EQ(clip.status, 200) << clip.body;
  EXPECT_EQ(clip.header("content-type"), "video/mp4");
  EXPECT_NE(clip.header("content-disposition").find("attachment"), std::string::npos);
  const auto clip_file = server_.data_dir() / "clip.mp4";
  std::ofstream(clip_file, std::ios::binary) << clip.body;
  int status = 1;
  // The edit list starts presentation at `from`: the frames of the GOP before it come out
  // with negative times (decoded, not shown), and what is shown lasts 10 s.
  const auto probed = run_command(
      "ffprobe -v error -show_entries format=duration,start_time -of "
      "csv=p=0:nk=1 '" +
          clip_file.string() + "'",
      &status);
  EXPECT_EQ(status, 0);
  double start_time = 0, duration = 0;
  ASSERT_EQ(std::sscanf(probed.c_str(), "%lf,%lf", &start_time, &duration), 2) << probed;
  EXPECT_LE(start_time, 0.0);
  EXPECT_NEAR(duration + start_time, 10.0, 0.1) << probed;
  const auto times = run_command(
      "ffprobe -v error -select_streams v -show_entries frame=pts_time "
      "-of csv=p=0 '" +
      clip_file.string() + "'");
  int shown = 0;
  std::stringstream lines(times);
  for (std::string line; std::getline(lines, line);) shown += std::stod(line) >= -1e-6;
  EXPECT_NEAR(shown, 100, 1) << "10 s at 10 fps";
  const auto clip_counters = frame_counters(clip_file.string(), owner_);
  ASSERT_GE(clip_counters.size(), 100u);
  for (size_t i = 1; i < clip_counters.size(); ++i) {
    ASSERT_EQ(clip_counters[i], (clip_counters[i - 1] + 1) & 0xffff) << "clip frame " << i;
  }
  // It starts where the playlist's counters say 55.35 s in is (the playlist began at 50 s
  // or up to a GOP before; its first frame is a keyframe at a whole second here).
  const int64_t playlist_head = parse_ms(json(clip.header("x-clip-start")));
  EXPECT_NEAR(static_cast<double>(playlist_head - start), 55'350.0, 100.0);
  auto clip_part = server_.request(
      "GET", clip_path, {{"Authorization", "Bearer " + owner_}, {"Range", "bytes=0-999"}});
  EXPECT_EQ(clip_part.status, 206);
  EXPECT_EQ(clip_part.body, clip.body.substr(0, 1000));
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/clip.mp4?from=" + std::to_string(start) +
                            "&to=" + std::to_string(start + 25 * 3'600'000ll))
                .status,
            400)
      << "over 24 hours";

  // A segment file with a byte range, as HLS players ask; another person sees nothing.
  const auto first = playlist.body.find("recordings/");
  const auto file = playlist.body.substr(first, playlist.body.find('"', first) - first);
  auto part = server_.request("GET", "/api/v1/devices/" + id_ + "/" + file,
                              {{"Authorization", "Bearer " + owner_}, {"Range", "bytes=0-99"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body.size(), 100u);
  EXPECT_EQ(part.header("cache-control"), "no-store");
  // Whole, it is streamed from the file: the very bytes of the file, with their length.
  auto whole = server_.request("GET", "/api/v1/devices/" + id_ + "/" + file,
                               {{"Authorization", "Bearer " + owner_}});
  EXPECT_EQ(whole.status, 200);
  EXPECT_GT(whole.body.size(), 100'000u);
  EXPECT_EQ(whole.header("content-length"), std::to_string(whole.body.size()));
  EXPECT_EQ(whole.body.substr(0, 100), part.body);
  EXPECT_FALSE(
      media::fmp4::demux(std::vector<uint8_t>(whole.body.begin(), whole.body.end())).error);
  const auto other = sign_up(server_, "other@example.org");
  EXPECT_EQ(server_.request("GET", playlist_path, {{"Authorization", "Bearer " + other}}).status,
            404);
  EXPECT_EQ(server_
                .request("GET", "/api/v1/devices/" + id_ + "/" + file,
                         {{"Authorization", "Bearer " + other}})
                .status,
            404);
  EXPECT_EQ(server_
                .request("GET", "/api/v1/devices/" + id_ + "/recordings",
                         {{"Authorization", "Bearer " + other}})
                .status,
            404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/recordings?from=yesterday").status, 400);
  const int traversal =
      call("GET", "/api/v1/devices/" + id_ + "/recordings/../../nightjar.db").status;
  EXPECT_TRUE(traversal == 400 || traversal == 404) << traversal;
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/recordings/99999.mp4").status, 404);
  // The camera's picture, kept for the camera list while it does not stream.
  const auto picture = call("GET", "/api/v1/devices/" + id_ + "/snapshot.jpg");
  ASSERT_EQ(picture.status, 200) << picture.body;
  // Unbinding ends the plan and the media go at once: whoever adds the camera next (with
  // its label) finds nothing of this owner's.
  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_).status, 204);
  const auto media_files = [&] {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(server_.data_dir() / "media", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      n += it->is_regular_file(ec);
    }
    return n;
  };
  EXPECT_TRUE(wait_for([&] { return media_files() == 0; }, 10s)) << media_files() << " files left";
  const auto label = json::parse(server_.admin("device label --serial REC-1"));
  const auto next = sign_up(server_, "next@example.org");
  auto added =
      server_.request("POST", "/api/v1/devices",
                      {{"Authorization", "Bearer " + next}, {"Content-Type", "application/json"}},
                      json{{"serial", "REC-1"}, {"pairing_code", label["pairing_code"]}}.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  const auto theirs = server_.request("GET",
                                      "/api/v1/devices/" + added.json()["id"].get<std::string>() +
                                          "/recordings?from=" + std::to_string(start - 60'000) +
                                          "&to=" + std::to_string(now_ms()),
                                      {{"Authorization", "Bearer " + next}});
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.json()["spans"].empty()) << theirs.body;
  EXPECT_TRUE(theirs.json()["plan"].is_null()) << "the plan ended with the unbinding";
  // Nor the last owner's picture: it was forgotten with the binding (the camera does not
  // stream for them yet, so there is none to show).
  const std::string their_id = added.json()["id"];
  const auto their_picture = server_.request("GET", "/api/v1/devices/" + their_id + "/snapshot.jpg",
                                             {{"Authorization", "Bearer " + next}});
  EXPECT_EQ(their_picture.status, 404) << their_picture.header("x-snapshot-stale");
  EXPECT_NE(their_picture.body, picture.body);
  const auto listed =
      server_.request("GET", "/api/v1/devices", {{"Authorization", "Bearer " + next}}).json();
  ASSERT_EQ(listed["devices"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["devices"][0]["picture"], false);
}

// An events-only plan: the camera streams all along, but only its motion is kept, each
// time from 2 s before to 2 s after, as separate spans with gaps between them.
TEST_F(RecordingTest, AnEventsOnlyPlanKeepsTheMotionWithItsPreAndPostRoll) {
  server_.admin("plan revoke --serial REC-1");
  const auto plan = json::parse(
      server_.admin("plan create --name alarms --days 7 --mode events --pre-roll 2 --post-roll 2"));
  EXPECT_EQ(plan["pre_roll_s"], 2);
  ASSERT_NE(server_.admin("plan grant --serial REC-1 --plan alarms --for-days 30"), "");
  const int64_t start = now_ms();
  start_camera("--motion-every 10 --motion-for 2");  // motion from 8 s to 10 s of every 10
  const auto spans = [&] {
    return recordings(start - 60'000, now_ms() + 60'000).value("spans", json::array());
  };
  // Three visits of the intruder (the open segment's index reaches the timeline within 2 s).
  ASSERT_TRUE(wait_for([&] { return spans().size() >= 3; }, 60s))
      << recordings(start - 60'000, now_ms() + 60'000).dump() << server_.log();
  const auto r = recordings(start - 60'000, now_ms() + 60'000);
  EXPECT_EQ(r["plan"]["mode"], "events") << r.dump();
  const auto& s = r["spans"];
  for (size_t i = 0; i + 1 < s.size(); ++i) {  // the last may still be growing
    const int64_t length = parse_ms(s[i]["end"]) - parse_ms(s[i]["start"]);
    // 2 s of motion, 2 s before and after: 6 s, give or take a GOP (1 s) each side.
    EXPECT_GE(length, 5'000) << r.dump();
    EXPECT_LE(length, 8'000) << r.dump();
    if (i > 0) {
      const int64_t apart = parse_ms(s[i]["start"]) - parse_ms(s[i - 1]["start"]);
      EXPECT_NEAR(static_cast<double>(apart), 10'000.0, 1'500.0) << "one visit every 10 s";
    }
  }
  // Between the visits nothing was kept, though the camera streamed all along.
  EXPECT_GE(r["gaps"].size(), 3u);
  // What is kept plays, from the keyframe before the pre-roll.
  const auto first = parse_ms(s[0]["start"]);
  auto clip = call("GET", "/api/v1/devices/" + id_ + "/clip.mp4?from=" + std::to_string(first) +
                              "&to=" + std::to_string(first + 4'000));
  EXPECT_EQ(clip.status, 200) << clip.body;

  // The owner's mode decides: in Away (the default), this camera's events are not recorded
  // when the owner says so; the events themselves are still there. Then they are again.
  auto off = call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"record_away", false}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.json()["cameras"][0]["record"]["away"], false);
  std::this_thread::sleep_for(12s);  // a visit in progress when it changed may finish
  const size_t kept = spans().size();
  const auto motion_events = [&] {
    return call("GET", "/api/v1/events?kind=motion&limit=200").json()["events"].size();
  };
  const size_t events_before = motion_events();
  std::this_thread::sleep_for(21s);  // two more visits
  EXPECT_EQ(spans().size(), kept) << "not recorded while the owner's Away says so";
  EXPECT_GE(motion_events(), events_before + 2) << "the events are still there";
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"record_away", true}}).status,
      200);
  EXPECT_TRUE(wait_for([&] { return spans().size() > kept; }, 25s)) << "recorded again";
}

// How many pixels of a JPEG's middle band (where the simulator's intruder walks, between the
// counter on top and the clock below) are as bright as the intruder.
int bright_pixels(const std::string& jpeg, const std::filesystem::path& scratch) {
  std::ofstream(scratch, std::ios::binary) << jpeg;
  const auto gray = run_command("ffmpeg -v error -i '" + scratch.string() +
                                "' -vf scale=320:240,crop=320:120:0:60 -f rawvideo -pix_fmt gray - "
                                "2>/dev/null");
  return static_cast<int>(std::count_if(gray.begin(), gray.end(),
                                        [](char c) { return static_cast<uint8_t>(c) >= 215; }));
}

// Motion reported by the camera becomes events at the right times, each with a picture that
// shows the intruder and a clip that plays from before it came; a person reads them, marks
// them read, deletes one; nobody else sees any of it.
TEST_F(RecordingTest, MotionBecomesEventsWithAPictureOfTheIntruderAndItsClip) {
  // The intruder from 6 s to 8 s of every 8: visits 6 s apart, more than the 5 s within which
  // a new report joins the last event.
  start_camera("--motion-every 8 --motion-for 2");
  const auto motion = [&] {
    json ended = json::array();
    const auto r = call("GET", "/api/v1/events?kind=motion&device=" + id_);
    for (const auto& e : r.json().value("events", json::array())) {
      if (!e["end"].is_null() && !e["snapshot"].is_null()) ended.push_back(e);
    }
    return ended;
  };
  json events;
  ASSERT_TRUE(wait_for(
      [&] {
        events = motion();
        return events.size() >= 3;
      },
      45s))
      << events.dump() << server_.log();
  // Newest first: 8 s apart, each about 2 s long.
  for (size_t i = 0; i < 3; ++i) {
    const auto& e = events[i];
    EXPECT_EQ(e["kind"], "motion");
    EXPECT_EQ(e["device_id"], id_);
    EXPECT_NEAR(static_cast<double>(parse_ms(e["end"]) - parse_ms(e["start"])), 2000.0, 1000.0)
        << e.dump();
    if (i > 0) {
      EXPECT_NEAR(static_cast<double>(parse_ms(events[i - 1]["start"]) - parse_ms(e["start"])),
                  8000.0, 1000.0);
    }
    // Its clip starts before it and ends after it.
    EXPECT_EQ(parse_ms(e["clip"]["from"]), parse_ms(e["start"]) - 5000);
    EXPECT_EQ(parse_ms(e["clip"]["to"]), parse_ms(e["end"]) + 10000);
  }
  // The picture shows the intruder; the scene without one has nothing as bright.
  const auto scratch = server_.data_dir() / "picture.jpg";
  for (size_t i = 0; i < 3; ++i) {
    auto picture = call("GET", events[i]["snapshot"].get<std::string>());
    ASSERT_EQ(picture.status, 200) << picture.body;
    EXPECT_EQ(picture.headers["content-type"], "image/jpeg");
    EXPECT_EQ(picture.headers["cache-control"], "no-store");
    EXPECT_GT(bright_pixels(picture.body, scratch), 100) << "event " << i;
  }
  ASSERT_TRUE(wait_for(
      [&] {
        // Between visits (0 s to 6 s of each period) the live picture has no intruder.
        auto live = call("GET", "/api/v1/devices/" + id_ + "/snapshot.jpg");
        return live.status == 200 && bright_pixels(live.body, scratch) < 20;
      },
      20s));
  // The clip plays: an MP4 from the pre-roll.
  const auto& first = events[2];
  auto clip = call("GET", "/api/v1/devices/" + id_ +
                              "/clip.mp4?from=" + std::to_string(parse_ms(first["clip"]["from"])) +
                              "&to=" + std::to_string(parse_ms(first["clip"]["to"])));
  EXPECT_EQ(clip.status, 200) << clip.body.substr(0, 200);

  // Read state: unread at first; one marked read; then all of them.
  const auto unread = [&] { return call("GET", "/api/v1/events/unread").json()["count"]; };
  const int64_t before = unread().get<int64_t>();
  EXPECT_GE(before, 3);
  const std::string path = "/api/v1/events/" + first["id"].get<std::string>();
  auto marked = call("PATCH", path, {{"read", true}});
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(marked.json()["read"], true);
  EXPECT_EQ(call("GET", path).json()["read"], true);
  EXPECT_EQ(call("PATCH", path, {{"read", "yes"}}).status, 400);
  EXPECT_EQ(call("PATCH", path, {{"kind", "person"}}).status, 400);
  ASSERT_EQ(call("POST", "/api/v1/events/read", json::object()).status, 200);
  EXPECT_EQ(unread(), 0);

  // Nobody else sees it: not the event, not its picture, not in their list.
  const auto stranger = sign_up(server_, "stranger@example.org");
  const std::map<std::string, std::string> as_stranger = {{"Authorization", "Bearer " + stranger}};
  EXPECT_EQ(server_.request("GET", path, as_stranger).status, 404);
  EXPECT_EQ(server_.request("GET", path + "/snapshot.jpg", as_stranger).status, 404);
  // Looking at the alarm pictures is in the camera's access log, once for the session.
  EXPECT_TRUE(wait_for(
      [&] {
        int n = 0;
        const json log = call("GET", "/api/v1/devices/" + id_ + "/access-log").json();
        for (const auto& e : log["entries"]) n += e["kind"] == "event_picture" && e["you"] == true;
        return n == 1;
      },
      5s))
      << call("GET", "/api/v1/devices/" + id_ + "/access-log").body;
  EXPECT_EQ(server_.request("DELETE", path, as_stranger).status, 404);
  auto theirs = server_.request("GET", "/api/v1/events?device=" + id_, as_stranger);
  EXPECT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.json()["events"].empty()) << theirs.body;
  EXPECT_EQ(server_.request("GET", "/api/v1/devices/" + id_ + "/events", as_stranger).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/events?cursor=../../x").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/events?kind=fire").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/events?limit=100000").status, 400);

  // The timeline's markers include them; the owner deletes one, and its picture goes too.
  auto markers =
      call("GET", "/api/v1/devices/" + id_ + "/events?from=" + std::to_string(now_ms() - 600'000) +
                      "&to=" + std::to_string(now_ms()));
  ASSERT_EQ(markers.status, 200) << markers.body;
  EXPECT_GE(markers.json()["events"].size(), 3u);
  EXPECT_EQ(call("DELETE", path).status, 204);
  EXPECT_EQ(call("GET", path).status, 404);
  EXPECT_EQ(call("GET", path + "/snapshot.jpg").status, 404);
}

// Crypto-shredding (#16): an event's picture and the recording are sealed on disk with their
// binding's key, kept outside the data directory. Once unbind returns, the key is gone: a copy of
// the data directory taken before holds nothing readable, and putting back a backup of the database
// taken before does not bring the key back — the server itself can no longer show it.
TEST_F(RecordingTest, ARecordingsAndPicturesKeyIsGoneOnceUnbindReturnsAndNoBackupBringsItBack) {
  start_camera("--motion-every 8 --motion-for 2");
  json event;
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& e : call("GET", "/api/v1/events?kind=motion&device=" + id_)
                                 .json()
                                 .value("events", json::array())) {
          if (!e["snapshot"].is_null()) event = e;
        }
        return !event.is_null();
      },
      30s))
      << server_.log();
  const std::string picture_path =
      "/api/v1/events/" + event["id"].get<std::string>() + "/snapshot.jpg";
  const auto shown = call("GET", picture_path);
  ASSERT_EQ(shown.status, 200);
  ASSERT_EQ(shown.body.substr(0, 2), "\xff\xd8") << "the app gets the JPEG";
  // On disk it is sealed: not a JPEG, and no run of its bytes appears there.
  const auto on_disk =
      server_.data_dir() / "events" / "default" / id_ / (event["id"].get<std::string>() + ".jpg");
  const auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string sealed = read(on_disk);
  ASSERT_FALSE(sealed.empty()) << on_disk;
  EXPECT_EQ(sealed.substr(0, 4), "NJS1");
  EXPECT_EQ(sealed.find(shown.body.substr(shown.body.size() / 2, 32)), std::string::npos);
  // The keys are not in the data directory at all.
  const auto key_dir = server_.data_dir().parent_path() / "data-keys";
  ASSERT_TRUE(std::filesystem::exists(key_dir / "master.key"));
  const auto device_keys = [&] {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(key_dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      n += it->path().filename().string().starts_with(id_ + "-");
    }
    return n;
  };
  EXPECT_EQ(device_keys(), 1);

  // The recording too: it plays through the server, while on disk each of its records is
  // sealed with the same binding key.
  json spans;
  ASSERT_TRUE(wait_for(
      [&] {
        spans = recordings(now_ms() - 600'000, now_ms() + 60'000)["spans"];
        return !spans.empty() && parse_ms(spans[0]["end"]) - parse_ms(spans[0]["start"]) > 4'000;
      },
      30s));
  const std::string segment_path = first_segment_path(parse_ms(spans[0]["start"]));
  ASSERT_FALSE(segment_path.empty());
  const auto clip_path = "/api/v1/devices/" + id_ +
                         "/clip.mp4?from=" + std::to_string(parse_ms(spans[0]["start"])) +
                         "&to=" + std::to_string(parse_ms(spans[0]["start"]) + 3'000);
  const auto segment = call("GET", segment_path);
  ASSERT_EQ(segment.status, 200);
  EXPECT_EQ(segment.body.substr(4, 4), "ftyp");
  ASSERT_EQ(call("GET", clip_path).status, 200);
  std::vector<std::filesystem::path> media_files;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(server_.data_dir() / "media")) {
    if (e.is_regular_file()) media_files.push_back(e.path());
  }
  ASSERT_FALSE(media_files.empty());
  for (const auto& f : media_files) {
    const std::string raw = read(f);
    EXPECT_EQ(raw.substr(0, 4), "NJR1") << f;
    for (const char* box : {"ftyp", "moov", "moof", "mdat", "avc1"}) {
      EXPECT_EQ(raw.find(box), std::string::npos) << box << " readable in " << f;
    }
  }

  // A copy of the data directory, and a backup of the database, taken before unbinding.
  camera_.reset();
  const auto copy = server_.data_dir().parent_path() / "copy";
  std::filesystem::create_directories(copy);
  // The database first: the files copied after it hold at least what it indexes.
  const auto backup = copy / "database.backup";
  ASSERT_TRUE(server_.backup_database(backup));
  std::filesystem::copy(server_.data_dir() / "events", copy / "events",
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy(server_.data_dir() / "media", copy / "media",
                        std::filesystem::copy_options::recursive);

  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_).status, 204);
  // When unbind has returned, the binding's key is already gone.
  EXPECT_EQ(device_keys(), 0);

  // The old database put back (and the old pictures with it): the camera is the owner's
  // again there, yet the picture does not open, as the key it needs exists nowhere.
  ASSERT_EQ(server_.stop(), 0) << server_.log();
  ASSERT_TRUE(server_.restore_database(backup));
  std::filesystem::remove_all(server_.data_dir() / "events");
  std::filesystem::copy(copy / "events", server_.data_dir() / "events",
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(server_.data_dir() / "media");
  std::filesystem::copy(copy / "media", server_.data_dir() / "media",
                        std::filesystem::copy_options::recursive);
  ASSERT_TRUE(server_.start()) << server_.log();
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_).status, 200) << "the old binding is back";
  const auto after = call("GET", picture_path);
  EXPECT_NE(after.status, 200) << "the picture opened without its key";
  EXPECT_EQ(call("GET", segment_path).status, 404) << "the recording opened without its key";
  EXPECT_NE(call("GET", clip_path).status, 200) << "a clip opened without its key";
  EXPECT_EQ(device_keys(), 0) << "no key came back";
}

// Crypto-shredding on cancellation (#16): once DELETE /me has returned, the account key is
// gone, and with it every key of its cameras: the recordings in a copy of the data directory
// and in a database backup restored afterwards open for no one, the server included.
TEST_F(RecordingTest, ACancelledAccountsRecordingsAreUnreadableAtOnceEvenFromABackup) {
  start_camera();
  json spans;
  ASSERT_TRUE(wait_for(
      [&] {
        spans = recordings(now_ms() - 600'000, now_ms() + 60'000)["spans"];
        return !spans.empty() && parse_ms(spans[0]["end"]) - parse_ms(spans[0]["start"]) > 4'000;
      },
      30s));
  const std::string segment_path = first_segment_path(parse_ms(spans[0]["start"]));
  ASSERT_FALSE(segment_path.empty());
  ASSERT_EQ(call("GET", segment_path).status, 200);
  const std::string user = call("GET", "/api/v1/me").json()["id"];
  const auto key_dir = server_.data_dir().parent_path() / "data-keys";
  ASSERT_TRUE(std::filesystem::exists(key_dir / "accounts" / (user + ".key")));

  camera_.reset();
  const auto copy = server_.data_dir().parent_path() / "copy-cancel";
  std::filesystem::create_directories(copy);
  const auto backup = copy / "database.backup";
  ASSERT_TRUE(server_.backup_database(backup));
  std::filesystem::copy(server_.data_dir() / "media", copy / "media",
                        std::filesystem::copy_options::recursive);

  ASSERT_EQ(call("DELETE", "/api/v1/me", {{"password", "a long passphrase for owner@example.org"}})
                .status,
            204);
  // When it has returned, no key of the account is left.
  EXPECT_FALSE(std::filesystem::exists(key_dir / "accounts" / (user + ".key")));
  EXPECT_FALSE(std::filesystem::exists(key_dir / "bindings" / user));

  // The old database and media put back: the account, its session and its camera are back
  // there, yet the recording does not open.
  ASSERT_EQ(server_.stop(), 0) << server_.log();
  ASSERT_TRUE(server_.restore_database(backup));
  std::filesystem::remove_all(server_.data_dir() / "media");
  std::filesystem::copy(copy / "media", server_.data_dir() / "media",
                        std::filesystem::copy_options::recursive);
  ASSERT_TRUE(server_.start()) << server_.log();
  ASSERT_EQ(call("GET", "/api/v1/devices/" + id_).status, 200) << "the old account is back";
  EXPECT_EQ(call("GET", segment_path).status, 404) << "the recording opened without its key";
  EXPECT_FALSE(std::filesystem::exists(key_dir / "accounts" / (user + ".key")))
      << "no key came back";
}

// A camera nobody watches and nothing records: for each event the server asks it for its
// own picture (event.snapshot), and it uploads a JPEG with its credentials; the picture shows
// the intruder. Only the camera asked, for that event, once, and only a JPEG, is taken.
TEST_F(RecordingTest, AnIdleCameraUploadsItsOwnPictureOfTheEvent) {
  server_.admin("plan revoke --serial REC-1");
  ASSERT_TRUE(wait_for([&] { return recordings(0, now_ms())["plan"].is_null(); }, 10s));
  start_camera("--motion-every 8 --motion-for 2");
  json event;
  ASSERT_TRUE(wait_for(
      [&] {
        const auto list = call("GET", "/api/v1/events?kind=motion").json()["events"];
        for (const auto& e : list) {
          if (!e["snapshot"].is_null()) event = e;
        }
        return !event.is_null();
      },
      30s))
      << server_.log();
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_device_uploads_total{outcome=\"taken\"}"), std::string::npos)
      << "the camera's own upload, not the stream" << server_.log()
      << run_command("cat '" + (server_.data_dir() / "cam.log").string() + "'");
  EXPECT_EQ(server_.log().find("device.stream.woken"), std::string::npos) << "nobody woke it";
  auto picture = call("GET", event["snapshot"].get<std::string>());
  ASSERT_EQ(picture.status, 200);
  EXPECT_GT(bright_pixels(picture.body, server_.data_dir() / "upload.jpg"), 100) << "the intruder";

  // Hostile uploads: wrong credentials, and an event not asked of the camera (or taken).
  const std::string path =
      "/api/v1/device/events/" + event["id"].get<std::string>() + "/snapshot.jpg";
  const auto put = [&](const std::string& user, const std::string& password,
                       const std::string& body) {
    const std::string basic = "Basic " + base64_of(user + ":" + password);
    return server_
        .request("PUT", path, {{"Authorization", basic}, {"Content-Type", "image/jpeg"}}, body)
        .status;
  };
  EXPECT_EQ(put("REC-1", "wrong", picture.body), 401);
  EXPECT_EQ(put("NOPE", secret_, picture.body), 401);
  EXPECT_EQ(server_.request("PUT", path, {}, picture.body).status, 401);
  EXPECT_EQ(put("REC-1", secret_, picture.body), 404) << "answered already";
  EXPECT_EQ(put("REC-1", secret_, "not a jpeg"), 404);
  EXPECT_EQ(call("GET", event["snapshot"].get<std::string>()).body, picture.body)
      << "nothing refused changed the picture";
}

// Server-side detection for a camera that cannot detect: nothing until its owner turns it
// on; then the server keeps it streaming, sees the intruder in its keyframes (motion), and
// tells a person from a box (HOG on what moved).
class DetectionTest : public RecordingTest {
 protected:
  json kinds_seen() {
    json kinds = json::object();
    const json page = call("GET", "/api/v1/events?limit=200").json();
    for (const auto& e : page["events"]) {
      kinds[e["kind"].get<std::string>()] = kinds.value(e["kind"].get<std::string>(), 0) + 1;
    }
    return kinds;
  }
  void start_detecting(const std::string& intruder) {
    server_.admin("plan revoke --serial REC-1");
    // A yard at rest, visited for 3 s of every 15, by a camera that cannot tell.
    start_camera("--no-detector --still --intruder " + intruder +
                 " --motion-every 15 --motion-for 3 --size 640x360 --gop-seconds 1");
  }
  // Where people walk: the middle, not the counter on top or the clock below (as an owner
  // leaves out a camera's burnt-in clock).
  static json middle() {
    return {{{"name", "yard"}, {"points", {{0, 0.1}, {1, 0.1}, {1, 0.85}, {0, 0.85}}}}};
  }
};

TEST_F(DetectionTest, TheServerSeesAPersonWhereTheCameraCannot) {
  start_detecting("person");
  // Zones and settings are checked whole; a viewer or a stranger may not set them.
  EXPECT_EQ(call("PATCH", "/api/v1/devices/" + id_ + "/detection",
                 {{"zones", {{{"points", {{0, 0}, {2, 2}, {0, 1}}}}}}})
                .status,
            400);
  EXPECT_EQ(call("PATCH", "/api/v1/devices/" + id_ + "/detection", {{"colour", "red"}}).status,
            400);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + id_ + "/detection").json()["enabled"], false);
  std::this_thread::sleep_for(16s);  // one visit: the camera does not report it
  EXPECT_TRUE(kinds_seen().empty()) << kinds_seen().dump();

  auto on = call("PATCH", "/api/v1/devices/" + id_ + "/detection",
                 {{"enabled", true}, {"min_area", 0.01}, {"person", true}, {"zones", middle()}});
  ASSERT_EQ(on.status, 200) << on.body;
  json kinds;
  ASSERT_TRUE(wait_for(
      [&] {
        kinds = kinds_seen();
        return kinds.contains("person") && kinds.contains("motion");
      },
      40s))
      << kinds.dump() << server_.log();
  // Each has a picture like any event.
  EXPECT_TRUE(wait_for(
      [&] {
        const json page = call("GET", "/api/v1/events?kind=person").json();
        for (const auto& e : page["events"]) {
          if (!e["snapshot"].is_null()) return true;
        }
        return false;
      },
      15s));
  const auto metrics = server_.get("/metrics").body;
  EXPECT_NE(metrics.find("nightjar_detection_cameras 1"), std::string::npos);
}

TEST_F(DetectionTest, ABoxIsMotionButNotAPerson) {
  start_detecting("box");
  ASSERT_EQ(call("PATCH", "/api/v1/devices/" + id_ + "/detection",
                 {{"enabled", true}, {"zones", middle()}})
                .status,
            200);
  json kinds;
  ASSERT_TRUE(wait_for(
      [&] {
        kinds = kinds_seen();
        return kinds.value("motion", 0) >= 2;
      },
      50s))
      << kinds.dump() << server_.get("/metrics").body;
  EXPECT_FALSE(kinds.contains("person")) << kinds.dump();
  // Each event says the zone it was seen in.
  const json motions = call("GET", "/api/v1/events?kind=motion").json();
  for (const auto& e : motions["events"]) EXPECT_EQ(e["zones"], json::array({"yard"})) << e.dump();
  // A zone away from where the box walks (the bottom strip): nothing more.
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/detection",
           {{"zones", {{{"name", "lawn"}, {"points", {{0, 0.85}, {1, 0.85}, {1, 1}, {0, 1}}}}}}})
          .status,
      200);
  std::this_thread::sleep_for(8s);  // the visit under way ends
  const int before = kinds_seen().value("motion", 0);
  std::this_thread::sleep_for(31s);  // two visits
  EXPECT_EQ(kinds_seen().value("motion", 0), before) << "outside the zone";
}

// In-app notifications: nothing without the person's consent; then each motion reaches their
// open tab at once; disarmed, snoozed, or consent withdrawn, nothing (the very next event);
// and a tab whose session ended is closed, not told.
TEST_F(RecordingTest, InAppNotificationsNeedConsentAndStopTheMomentItIsWithdrawn) {
  const auto sign_in_again = [&] { return sign_in(server_, "owner@example.org"); };
  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"cooldown_s", 0}}).status, 200);
  WsClient tab;
  ASSERT_EQ(tab.connect(server_.http_port(), "/api/v1/notifications",
                        {{"Authorization", "Bearer " + owner_}}),
            101);
  auto hello = tab.receive(5s);
  ASSERT_TRUE(hello);
  EXPECT_EQ(json::parse(*hello)["consent"], false);
  // Visits 7 s apart, 1 s long: each its own event (6 s apart is past the 5 s grouping).
  start_camera("--motion-every 7 --motion-for 1");
  size_t seen = 0;
  // The next motion event, waited for in the list; then whether the tab heard of it.
  const auto next_event = [&]() -> std::optional<std::string> {
    wait_for_motion_event(seen);
    return tab.receive(1500ms);
  };
  EXPECT_FALSE(next_event()) << "no consent, no notification";

  auto given = call("PUT", "/api/v1/me/consents/notify.in_app", {{"granted", true}});
  ASSERT_EQ(given.status, 200) << given.body;
  EXPECT_EQ(given.json()["granted"], true);
  EXPECT_FALSE(given.json()["policy_version"].get<std::string>().empty());
  auto told = next_event();
  ASSERT_TRUE(told) << server_.get("/metrics").body << server_.log();
  const auto n = json::parse(*told);
  EXPECT_EQ(n["type"], "event");
  EXPECT_EQ(n["kind"], "motion");
  EXPECT_EQ(n["device_id"], id_);
  EXPECT_EQ(call("GET", "/api/v1/events/" + n["event_id"].get<std::string>()).status, 200);

  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"mode", "disarmed"}}).status, 200);
  EXPECT_FALSE(next_event()) << "disarmed";
  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"mode", "away"}}).status, 200);
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"snooze_minutes", 30}}).status,
      200);
  EXPECT_FALSE(next_event()) << "snoozed";
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"snooze_minutes", 0}}).status,
      200);
  EXPECT_TRUE(next_event()) << "the snooze ended";

  ASSERT_EQ(call("PUT", "/api/v1/me/consents/notify.in_app", {{"granted", false}}).status, 200);
  EXPECT_FALSE(next_event()) << "withdrawn: the very next event is not told";
  const auto record = call("GET", "/api/v1/me/consents").json();
  EXPECT_EQ(record["consents"]["notify.in_app"]["granted"], false);
  EXPECT_EQ(record["history"].size(), 2u);

  // Signed out: the tab is closed at the next notification, and told nothing.
  ASSERT_EQ(call("PUT", "/api/v1/me/consents/notify.in_app", {{"granted", true}}).status, 200);
  ASSERT_EQ(call("POST", "/api/v1/auth/logout").status, 204);
  json events;
  ASSERT_TRUE(wait_for(
      [&] {
        events = server_
                     .request("GET", "/api/v1/events?kind=motion",
                              {{"Authorization", "Bearer " + sign_in_again()}})
                     .json()["events"];
        return events.size() > seen;
      },
      20s));
  EXPECT_FALSE(tab.receive(2s)) << "closed, not told";

  // Bad input to the settings changes nothing.
  owner_ = sign_in_again();
  EXPECT_EQ(call("PATCH", "/api/v1/me/notifications", {{"mode", "party"}}).status, 400);
  EXPECT_EQ(call("PATCH", "/api/v1/me/notifications", {{"kinds", {"fire"}}}).status, 400);
  EXPECT_EQ(call("PATCH", "/api/v1/me/notifications", {{"cooldown_s", -1}}).status, 400);
  EXPECT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"snooze_minutes", 1e9}}).status,
      400);
  EXPECT_EQ(call("PUT", "/api/v1/me/consents/advertising", {{"granted", true}}).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/me/notifications").json()["mode"], "away");
}

// The channels beyond the app, end to end with real receivers: a webhook endpoint (an HTTP
// server), e-mail (an SMTP server) and home automation (a client of the server's own broker
// with the person's credentials), beside the in-app tab. Nothing on any of them without
// consent, disarmed or snoozed; everything on each with it; a webhook that keeps failing is
// dead-lettered and can be sent again; withdrawn, nothing, and discovery is taken back.
struct Receivers {
  SmtpReceiver smtp;
  HttpReceiver hooks;
};

class NotifyChannelsTest : protected Receivers, public RecordingTest {
 protected:
  NotifyChannelsTest()
      : RecordingTest("[recording]\nsegment_minutes = 1\nreserve_mb = 0\n[smtp]\nurl = \"" +
                      smtp.url() +
                      "\"\n[notify]\nwebhook_allow_private = true\n"
                      "webhook_first_retry_ms = 50\nwebhook_attempts = 2\n") {}
};

std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size);
  std::string out;
  char two[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(two, sizeof two, "%02x", mac[i]);
    out += two;
  }
  return out;
}

TEST_F(NotifyChannelsTest, EveryChannelDeliversWithConsentAndNothingWithout) {
  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"cooldown_s", 0}}).status, 200);
  // Set up: a webhook, home-automation MQTT, an open tab.
  EXPECT_EQ(call("POST", "/api/v1/me/webhooks", {{"url", "ftp://example.org/"}}).status, 400);
  auto hook = call("POST", "/api/v1/me/webhooks", {{"url", hooks.url("/nightjar")}});
  ASSERT_EQ(hook.status, 201) << hook.body;
  const std::string secret = hook.json()["secret"];
  auto home = call("POST", "/api/v1/me/mqtt");
  ASSERT_EQ(home.status, 201) << home.body;
  const std::string root = home.json()["topic_root"];
  const std::string password = home.json()["password"];
  EXPECT_FALSE(call("GET", "/api/v1/me/mqtt").json().contains("password")) << "shown once";
  std::mutex mu;
  std::vector<mqtt::Message> heard;
  mqtt::ClientOptions o;
  o.port = mqtt_port_;
  o.username = home.json()["username"];
  o.password = password;
  auto ha = mqtt::connect(o, [&](const mqtt::Message& m) {
    std::lock_guard lock(mu);
    heard.push_back(m);
  });
  // Its own space, and tries at the devices' and everyone's (refused by the broker).
  for (const auto& pattern : {root + "#", std::string("nj/v1/#"), std::string("nj/home/#")}) {
    ha->subscribe(pattern);
  }
  ASSERT_TRUE(wait_for([&] { return ha->connected(); }, 10s)) << server_.log();
  const auto heard_on = [&](const std::string& topic) {
    std::lock_guard lock(mu);
    return std::count_if(heard.begin(), heard.end(),
                         [&](const mqtt::Message& m) { return m.topic == topic; });
  };
  WsClient tab;
  ASSERT_EQ(tab.connect(server_.http_port(), "/api/v1/notifications",
                        {{"Authorization", "Bearer " + owner_}}),
            101);
  ASSERT_TRUE(tab.receive(5s));  // hello
  const std::string email = "owner@example.org";
  struct Counts {
    size_t hooks, mails;
    long mqtt;
  };
  const auto counts = [&] {
    return Counts{hooks.count(), smtp.count_to(email), heard_on(root + "events")};
  };

  start_camera("--motion-every 7 --motion-for 1");
  size_t seen = 0;
  // The next motion event in the list; whether the tab heard of it.
  const auto next_event = [&]() -> bool {
    wait_for_motion_event(seen);
    return tab.receive(1500ms).has_value();
  };
  const auto nothing_more = [&](const Counts& before, const char* why) {
    EXPECT_FALSE(next_event()) << why;
    std::this_thread::sleep_for(1s);
    const Counts after = counts();
    EXPECT_EQ(after.hooks, before.hooks) << why;
    EXPECT_EQ(after.mails, before.mails) << why;
    EXPECT_EQ(after.mqtt, before.mqtt) << why;
  };
  const auto everything = [&](const Counts& before, const char* why) {
    EXPECT_TRUE(next_event()) << why;
    auto request = hooks.wait_for(before.hooks + 1, 10s);
    EXPECT_TRUE(request) << why << server_.log();
    EXPECT_TRUE(smtp.wait_for(email, before.mails + 1)) << why;
    EXPECT_TRUE(wait_for([&] { return heard_on(root + "events") > before.mqtt; }, 10s)) << why;
    return request;
  };

  nothing_more(counts(), "no consent");
  {
    std::lock_guard lock(mu);
    for (const auto& m : heard) {
      EXPECT_EQ(m.topic.find("homeassistant"), std::string::npos) << "no discovery yet";
    }
  }

  for (const char* purpose : {"notify.in_app", "notify.webhook", "notify.email", "notify.mqtt"}) {
    ASSERT_EQ(
        call("PUT", std::string("/api/v1/me/consents/") + purpose, {{"granted", true}}).status,
        200);
  }
  const std::string config_topic =
      root + "homeassistant/binary_sensor/nightjar_" + id_ + "_motion/config";
  ASSERT_TRUE(wait_for([&] { return heard_on(config_topic) > 0; }, 10s)) << "discovery";
  {
    std::lock_guard lock(mu);
    for (const auto& m : heard) {
      if (m.topic != config_topic) continue;
      const auto config = json::parse(m.payload);
      EXPECT_EQ(config["state_topic"], root + id_ + "/motion");
      EXPECT_EQ(config["device_class"], "motion");
      EXPECT_EQ(config["device"]["identifiers"][0], "nightjar_" + id_);
    }
  }
  auto request = everything(counts(), "consented");
  ASSERT_TRUE(request);
  // The webhook: signed with its secret over the time and the body; no picture in it.
  const std::string signature = request->header("nightjar-signature");
  const auto comma = signature.find(",v1=");
  ASSERT_TRUE(signature.starts_with("t=") && comma != std::string::npos) << signature;
  const std::string t = signature.substr(2, comma - 2);
  EXPECT_EQ(signature.substr(comma + 4), hmac_hex(secret, t + "." + request->body));
  EXPECT_LT(std::abs(std::stoll(t) - now_ms() / 1000), 30);
  const auto payload = json::parse(request->body);
  EXPECT_EQ(payload["notification"]["device_id"], id_);
  EXPECT_EQ(payload["notification"]["kind"], "motion");
  EXPECT_EQ(request->body.find("snapshot"), std::string::npos);
  const std::string event_id = payload["notification"]["event_id"];
  EXPECT_EQ(call("GET", "/api/v1/events/" + event_id).status, 200);
  // The mail, and the sensor.
  const auto mail = smtp.wait_for(email, smtp.count_to(email));
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->subject().find("Motion"), std::string::npos);
  EXPECT_NE(mail->data.find("/events?device=" + id_), std::string::npos);
  EXPECT_GT(heard_on(root + id_ + "/motion"), 0);

  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"mode", "disarmed"}}).status, 200);
  nothing_more(counts(), "disarmed");
  ASSERT_EQ(call("PATCH", "/api/v1/me/notifications", {{"mode", "away"}}).status, 200);
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"snooze_minutes", 30}}).status,
      200);
  nothing_more(counts(), "snoozed");
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/" + id_ + "/notifications", {{"snooze_minutes", 0}}).status,
      200);
  everything(counts(), "the snooze ended");

  // The webhook's endpoint fails twice (all the attempts allowed): dead-lettered, then sent
  // again from the list.
  hooks.answer_next({500, 503});
  const size_t before_dead = hooks.count();
  ASSERT_TRUE(next_event());
  json failures;
  ASSERT_TRUE(wait_for(
      [&] {
        failures = call("GET", "/api/v1/me/webhooks").json()["failures"];
        return failures.size() == 1;
      },
      15s))
      << server_.log();
  EXPECT_EQ(hooks.count(), before_dead + 2);
  EXPECT_EQ(failures[0]["attempts"], 2);
  EXPECT_EQ(failures[0]["last_status"], 503);
  EXPECT_EQ(failures[0]["notification"]["device_id"], id_);
  const std::string failure = failures[0]["id"];
  auto retried = call("POST", "/api/v1/me/webhook-failures/" + failure + "/retry");
  EXPECT_EQ(retried.status, 202) << retried.body;
  EXPECT_TRUE(hooks.wait_for(before_dead + 3, 10s));
  EXPECT_EQ(call("GET", "/api/v1/me/webhooks").json()["failures"].size(), 0u);
  EXPECT_EQ(call("POST", "/api/v1/me/webhook-failures/" + failure + "/retry").status, 404);

  // Withdrawn, every one: nothing, and the sensors are taken back from Home Assistant.
  for (const char* purpose : {"notify.in_app", "notify.webhook", "notify.email", "notify.mqtt"}) {
    ASSERT_EQ(
        call("PUT", std::string("/api/v1/me/consents/") + purpose, {{"granted", false}}).status,
        200);
  }
  EXPECT_TRUE(wait_for(
      [&] {
        std::lock_guard lock(mu);
        return !heard.empty() && heard.back().topic.find("homeassistant") != std::string::npos &&
               heard.back().payload.empty();
      },
      10s))
      << "discovery taken back";
  nothing_more(counts(), "withdrawn");

  // Nothing outside the person's own space ever reached their client.
  {
    std::lock_guard lock(mu);
    for (const auto& m : heard) EXPECT_TRUE(m.topic.starts_with(root)) << m.topic;
  }
  // Turned off: the credentials no longer work.
  ASSERT_EQ(call("DELETE", "/api/v1/me/mqtt").status, 204);
  ha.reset();
  const auto refused = run_command("mosquitto_sub -h 127.0.0.1 -p " + std::to_string(mqtt_port_) +
                                   " -u '" + home.json()["username"].get<std::string>() + "' -P '" +
                                   password + "' -t '" + root + "#' -C 1 -W 3 2>&1; echo rc=$?");
  EXPECT_NE(refused.find("rc="), std::string::npos);
  EXPECT_EQ(refused.find("rc=27"), std::string::npos) << "connected: " << refused;
}

// A shared camera's sensors reach the person's Home Assistant when they accept the share,
// and are taken back the moment it is revoked (not at the broker's next full sync).
TEST_F(NotifyChannelsTest, ASharedCamerasSensorsComeAndGoWithTheShare) {
  const auto family = sign_up(server_, "family@example.org");
  const auto as_family = [&](const std::string& method, const std::string& path,
                             const json& body = nullptr) {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + family}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_.request(method, path, h, body.is_null() ? "" : body.dump());
  };
  const auto home = as_family("POST", "/api/v1/me/mqtt");
  ASSERT_EQ(home.status, 201) << home.body;
  const json login = home.json();
  ASSERT_EQ(as_family("PUT", "/api/v1/me/consents/notify.mqtt", {{"granted", true}}).status, 200);
  std::mutex mu;
  std::map<std::string, std::string> retained;  // topic → the last payload heard
  mqtt::ClientOptions o;
  o.port = mqtt_port_;
  o.username = login["username"];
  o.password = login["password"];
  auto ha = mqtt::connect(o, [&](const mqtt::Message& m) {
    std::lock_guard lock(mu);
    retained[m.topic] = m.payload;
  });
  const std::string root = login["topic_root"];
  ha->subscribe(root + "#");
  ASSERT_TRUE(wait_for([&] { return ha->connected(); }, 10s)) << server_.log();
  const std::string config_topic =
      root + "homeassistant/binary_sensor/nightjar_" + id_ + "_motion/config";
  const auto announced = [&]() -> std::optional<bool> {
    std::lock_guard lock(mu);
    auto it = retained.find(config_topic);
    if (it == retained.end()) return std::nullopt;
    return !it->second.empty();
  };
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(announced()) << "not their camera yet";

  auto share = call("POST", "/api/v1/devices/" + id_ + "/shares",
                    {{"email", "family@example.org"}, {"role", "family"}});
  ASSERT_EQ(share.status, 201) << share.body;
  const std::string share_id = share.json()["id"];
  ASSERT_EQ(as_family("POST", "/api/v1/shares/" + share_id + "/accept").status, 200);
  EXPECT_TRUE(wait_for([&] { return announced() == true; }, 5s)) << "announced on accepting";

  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_ + "/shares/" + share_id).status, 204);
  EXPECT_TRUE(wait_for([&] { return announced() == false; }, 5s)) << "taken back on revoking";
}

// Home-automation logins survive a restart of the server (the broker's state is rebuilt from
// the database at every start, as the devices' is).
TEST_F(NotifyChannelsTest, HomeAutomationLoginsSurviveARestart) {
  const auto home = call("POST", "/api/v1/me/mqtt").json();
  ASSERT_TRUE(home.contains("password")) << home.dump();
  const auto connects = [&] {
    const auto out = run_command(
        "mosquitto_sub -h 127.0.0.1 -p " + std::to_string(mqtt_port_) + " -u '" +
        home["username"].get<std::string>() + "' -P '" + home["password"].get<std::string>() +
        "' -t '" + home["topic_root"].get<std::string>() + "#' -C 1 -W 1 2>&1; echo rc=$?");
    return out.find("rc=27") != std::string::npos;  // connected, and waited for a message
  };
  ASSERT_TRUE(wait_for(connects, 10s)) << server_.log();
  ASSERT_EQ(server_.stop(), 0);
  ASSERT_TRUE(server_.start()) << server_.log();
  EXPECT_TRUE(wait_for(connects, 15s)) << "the login is gone after a restart\n" << server_.log();
}

// A store with less free space than the reserve: recording pauses before writing a byte,
// and the camera's owner is told so (the timeline would otherwise just show a gap).
class FullStoreTest : public RecordingTest {
 protected:
  FullStoreTest() : RecordingTest("[recording]\nreserve_mb = 1073741824\n") {}
};

TEST_F(FullStoreTest, RecordingPausesAndTheOwnerIsTold) {
  start_camera();
  json r;
  ASSERT_TRUE(wait_for(
      [&] {
        r = recordings(now_ms() - 60'000, now_ms() + 60'000);
        return r["recorder"].is_object() && r["recorder"]["state"] == "paused";
      },
      30s))
      << r.dump() << server_.log();
  EXPECT_EQ(r["recorder"]["reason"], "storage");
  EXPECT_TRUE(r["spans"].empty());
  EXPECT_TRUE(wait_for(  // the gauges follow every 5 s
      [&] {
        return server_.get("/metrics").body.find("nightjar_recorders_paused 1\n") !=
               std::string::npos;
      },
      10s));
  EXPECT_NE(server_.log().find("recording.paused"), std::string::npos);
  // An alarm says so, and lasts while it does.
  json full;
  EXPECT_TRUE(wait_for(
      [&] {
        full = call("GET", "/api/v1/events?kind=storage_full").json()["events"];
        return full.size() == 1;
      },
      15s))
      << full.dump();
  if (full.size() == 1) {
    EXPECT_TRUE(full[0]["end"].is_null()) << "still full";
  }
}

// A camera whose card fails says so in its telemetry: an sd_card alarm while it lasts.
TEST_F(RecordingTest, AFailingSdCardIsAnAlarm) {
  server_.admin("plan revoke --serial REC-1");
  // A card that cannot be used: a file where its directory should be.
  std::ofstream(server_.data_dir() / "not-a-card") << "x";
  start_camera("--sd-dir '" + (server_.data_dir() / "not-a-card").string() +
               "' --telemetry-seconds 1");
  json events;
  ASSERT_TRUE(wait_for(
      [&] {
        events = call("GET", "/api/v1/events?kind=sd_card").json()["events"];
        return events.size() == 1;
      },
      20s))
      << events.dump() << call("GET", "/api/v1/devices/" + id_).body
      << run_command("cat '" + (server_.data_dir() / "cam.log").string() + "'");
  EXPECT_TRUE(events[0]["end"].is_null());
  EXPECT_TRUE(events[0]["snapshot"].is_null()) << "no picture of a card";
}

// SIGKILL at random moments while recording, 20 times: after each restart the recordings
// play, and at the end the index matches the files exactly.
TEST_F(RecordingTest, KilledTwentyTimesTheIndexStillMatchesTheFiles) {
  start_camera();
  std::mt19937 random(42);
  const auto media_bytes = [&] {
    uint64_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(server_.data_dir() / "media", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) n += it->file_size(ec);
    }
    return n;
  };
  for (int round = 0; round < 20; ++round) {
    // Recording resumes: the files grow again (the index follows within 2 s).
    const uint64_t bytes = media_bytes();
    ASSERT_TRUE(wait_for([&] { return media_bytes() > bytes; }, 30s))
        << "round " << round << ": recording resumes\n"
        << server_.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 1500));
    const int64_t before = recorded_ms();
    ASSERT_EQ(server_.stop(SIGKILL), -SIGKILL);
    const uint64_t on_disk = media_bytes();
    ASSERT_TRUE(server_.start()) << server_.log();
    // Recovery cut at most the fragment being written (a second here, well under 100 KB).
    EXPECT_GE(media_bytes() + 100'000, on_disk) << "round " << round;
    // Recovered from the files: nothing the index had is lost, and it plays.
    EXPECT_GE(recorded_ms(), before) << "round " << round;
    const auto r = recordings(now_ms() - 3'600'000, now_ms() + 60'000);
    ASSERT_FALSE(r["spans"].empty());
    const int64_t last_start = parse_ms(r["spans"].back()["start"]);
    EXPECT_EQ(
        call("GET", "/api/v1/devices/" + id_ + "/playback.m3u8?from=" + std::to_string(last_start))
            .status,
        200);
  }
  camera_.reset();
  ASSERT_EQ(server_.stop(), 0);
  // The index against the files, row by row: each file is exactly its sealed records
  // (docs/keys.md), with no MP4 box readable on disk.
  auto db = server_.open_database();
  ASSERT_TRUE(db);
  auto rows = db->query(
      "SELECT id, store_key, bytes, state, fragments, key_generation FROM recording_segments");
  ASSERT_TRUE(rows);
  ASSERT_FALSE(rows->empty());
  std::vector<std::pair<int64_t, int64_t>> segments;  // id, plain bytes
  for (const auto& row : *rows) {
    EXPECT_EQ(row.text(3), "closed");
    EXPECT_FALSE(row.is_null(5)) << "sealed";
    const std::string table = row.text(4);
    const auto entries = recording::decode_fragments(
        std::span(reinterpret_cast<const uint8_t*>(table.data()), table.size()));
    ASSERT_TRUE(entries);
    const auto path = server_.data_dir() / "media" / row.text(1);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(static_cast<int64_t>(bytes.size()),
              row.integer(2) + 48 * static_cast<int64_t>(entries->size() + 1))
        << row.text(1);
    EXPECT_EQ(bytes.find("moof"), std::string::npos) << row.text(1);
    segments.emplace_back(row.integer(0), row.integer(2));
  }
  size_t fragments = 0;
  size_t files = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(server_.data_dir() / "media")) {
    files += e.is_regular_file();
  }
  ASSERT_TRUE(server_.start()) << server_.log();
  // Read back through the server, each is whole, valid fMP4.
  for (const auto& [segment, size] : segments) {
    const auto r =
        call("GET", "/api/v1/devices/" + id_ + "/recordings/" + std::to_string(segment) + ".mp4");
    ASSERT_EQ(r.status, 200) << segment;
    ASSERT_EQ(static_cast<int64_t>(r.body.size()), size);
    const auto d = media::fmp4::demux(
        std::span(reinterpret_cast<const uint8_t*>(r.body.data()), r.body.size()));
    EXPECT_FALSE(d.error) << segment;
    EXPECT_EQ(d.complete, r.body.size()) << segment;
    fragments += d.fragments.size();
  }
  EXPECT_GT(fragments, 20u);
  EXPECT_EQ(files, rows->size()) << "no file without a row";
}

// The data export with recordings (issue #16): the camera's closed recordings are in the
// ZIP as the plain MP4s they play as (sealed on disk, opened on the way in), and the ZIP
// itself is sealed on disk.
TEST_F(RecordingTest, AnExportWithRecordingsHoldsThemAsPlayableMp4) {
  start_camera();
  // A closed segment (files of a minute).
  ASSERT_TRUE(wait_for(
      [&] {
        const auto r = recordings(now_ms() - 600'000, now_ms() + 60'000);
        return !r["spans"].empty() &&
               parse_ms(r["spans"][0]["end"]) - parse_ms(r["spans"][0]["start"]) > 65'000;
      },
      120s))
      << server_.log();
  EXPECT_EQ(call("POST", "/api/v1/me/export", {{"recordings", "yes"}}).status, 400);
  const auto asked = call("POST", "/api/v1/me/export", {{"recordings", true}});
  ASSERT_EQ(asked.status, 202) << asked.body;
  EXPECT_EQ(asked.json()["recordings"], true);
  json state;
  ASSERT_TRUE(wait_for(
      [&] {
        state = call("GET", "/api/v1/me/export").json()["export"];
        return state.is_object() && state["state"] == "ready";
      },
      60s))
      << state.dump() << server_.log();
  const auto zip = call("GET", state["download"].get<std::string>());
  ASSERT_EQ(zip.status, 200);
  const auto path = server_.data_dir().parent_path() / "export-with-recordings.zip";
  std::ofstream(path, std::ios::binary) << zip.body;
  const std::string listing = run_command("unzip -Z1 '" + path.string() + "'");
  const auto at = listing.find("recordings/" + id_ + "/");
  ASSERT_NE(at, std::string::npos) << listing;
  const std::string name = listing.substr(at, listing.find('\n', at) - at);
  const std::string mp4 = run_command("unzip -p '" + path.string() + "' '" + name + "'");
  ASSERT_GT(mp4.size(), 100'000u);
  EXPECT_EQ(mp4.substr(4, 4), "ftyp");
  const auto d =
      media::fmp4::demux(std::span(reinterpret_cast<const uint8_t*>(mp4.data()), mp4.size()));
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.complete, mp4.size());
  EXPECT_GT(d.fragments.size(), 20u);
  std::filesystem::remove(path);
}

// Data regions (policy item 36): a second region with a root of its own. The owner's data is
// in the default region; they move it to the other one, which needs their explicit consent;
// then every recording and picture of their camera is under the new root, nothing is left
// under the old one, and what is recorded next lands in the new one too.
std::filesystem::path eu_root() {
  return std::filesystem::temp_directory_path() / ("nj-region-eu-" + std::to_string(::getpid()));
}

class RegionTest : public RecordingTest {
 protected:
  RegionTest()
      : RecordingTest(
            "[recording]\nsegment_minutes = 1\nreserve_mb = 0\n"
            "[regions.default]\nname = \"Home\"\n"
            "[regions.eu]\nname = \"Europe\"\nroot = \"" +
            eu_root().string() + "\"\n") {
    std::filesystem::remove_all(eu_root());
  }
  ~RegionTest() override { std::filesystem::remove_all(eu_root()); }
};

// Regular files under `dir` whose path mentions `needle`.
size_t files_under(const std::filesystem::path& dir, const std::string& needle) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().string().find(needle) != std::string::npos) ++n;
  }
  return n;
}

TEST_F(RegionTest, DataMovesToAnotherRegionOnlyWithConsentAndNothingStaysBehind) {
  const auto regions = server_.get("/api/v1/regions").json();
  ASSERT_EQ(regions["regions"].size(), 2u) << regions.dump();
  EXPECT_EQ(regions["default"], "default");
  EXPECT_EQ(regions["regions"][1]["name"], "Europe");
  EXPECT_EQ(call("GET", "/api/v1/me/region").json()["region"], "default");
  // A person who chooses a region at sign-up is in it; a region that is not one is refused.
  const auto european = sign_up(server_, "european@example.org", "eu");
  EXPECT_EQ(server_.request("GET", "/api/v1/me/region", {{"Authorization", "Bearer " + european}})
                .json()["region"],
            "eu");
  const auto mars =
      server_.request("POST", "/api/v1/auth/register", {{"Content-Type", "application/json"}},
                      json{{"email", "m@example.org"},
                           {"password", "a long passphrase here"},
                           {"language", "en"},
                           {"policy_version", server_.get("/api/v1/policy").json()["version"]},
                           {"region", "mars"}}
                          .dump());
  EXPECT_EQ(mars.status, 400);
  EXPECT_EQ(mars.json()["error"]["code"], "unknown_region") << mars.body;

  // The owner's camera records, with an event picture, in the default region.
  start_camera("--motion-every 6 --motion-for 2");
  const auto data = server_.data_dir();
  ASSERT_TRUE(wait_for(
      [&] {
        return files_under(data / "media" / "default", "REC-1") >= 1 &&
               files_under(data / "events" / "default", id_) >= 1;
      },
      90s))
      << server_.log();
  EXPECT_EQ(files_under(eu_root(), ""), 0u);

  // No move without an explicit yes.
  for (const json& body : {json{{"region", "eu"}}, json{{"region", "eu"}, {"consent", false}},
                           json{{"region", "eu"}, {"consent", "yes"}}}) {
    const auto refused = call("POST", "/api/v1/me/region", body);
    EXPECT_EQ(refused.status, 400) << body.dump();
    EXPECT_EQ(refused.json()["error"]["code"], "consent_required");
  }
  EXPECT_EQ(call("POST", "/api/v1/me/region", {{"region", "mars"}, {"consent", true}}).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/me/region").json()["moves"].size(), 0u);
  EXPECT_EQ(files_under(eu_root(), ""), 0u) << "nothing moved without consent";

  const auto moved = call("POST", "/api/v1/me/region", {{"region", "eu"}, {"consent", true}});
  ASSERT_EQ(moved.status, 202) << moved.body;
  EXPECT_EQ(moved.json()["from"], "default");
  EXPECT_EQ(call("POST", "/api/v1/me/region", {{"region", "eu"}, {"consent", true}}).status, 409);
  json state;
  ASSERT_TRUE(wait_for(
      [&] {
        state = call("GET", "/api/v1/me/region").json();
        return state["moves"].size() == 1 && state["moves"][0]["state"] == "done";
      },
      60s))
      << state.dump() << server_.log();
  EXPECT_EQ(state["region"], "eu");
  EXPECT_FALSE(state["moves"][0]["consented_at"].is_null());
  // Nothing of the camera is left under the default region's root; all of it is under eu.
  EXPECT_EQ(files_under(data / "media", "REC-1"), 0u);
  EXPECT_EQ(files_under(data / "events", id_), 0u);
  const size_t moved_files = files_under(eu_root() / "media" / "eu", "REC-1");
  EXPECT_GE(moved_files, 1u);
  EXPECT_GE(files_under(eu_root() / "events" / "eu", id_), 1u);
  // It still plays: the index points at the new place.
  const auto r = recordings(now_ms() - 600'000, now_ms() + 60'000);
  ASSERT_FALSE(r["spans"].empty());
  const std::string moved_segment = first_segment_path(parse_ms(r["spans"][0]["start"]));
  ASSERT_FALSE(moved_segment.empty());
  EXPECT_EQ(call("GET", moved_segment).status, 200);
  // What is recorded from now on lands under eu, and never under the default root.
  ASSERT_TRUE(
      wait_for([&] { return files_under(eu_root() / "media" / "eu", "REC-1") > moved_files; }, 90s))
      << server_.log();
  EXPECT_EQ(files_under(data / "media", "REC-1"), 0u);
  EXPECT_EQ(files_under(data / "events", id_), 0u);
}

// Recordings in object storage (issue #17): with [storage], a camera's recording goes to the
// bucket fragment by fragment (nothing under the data directory's media), plays back and
// exports through the node, which alone holds the keys; the bucket answers no one unsigned;
// and an unbind deletes every object of it. Runs on a real S3 (as "s3.…", the run's RGW).
class ObjectStorageTest : public RecordingTest {
 protected:
  ObjectStorageTest() : RecordingTest(config()) {}
  explicit ObjectStorageTest(const std::string& config) : RecordingTest(config) {}
  static std::string config() {
    if (!recording::testing::on_s3()) return "";
    prefix() = recording::testing::fresh_prefix();
    return storage_config(recording::testing::test_s3_config(), prefix());
  }
  static std::string storage_config(const s3::Config& s3, const std::string& prefix) {
    return recording::testing::server_storage_config(s3, prefix);
  }
  static std::string& prefix() {
    static std::string p;
    return p;
  }
  void SetUp() override {
    if (!recording::testing::on_s3()) GTEST_SKIP() << "runs on S3, as s3.ObjectStorageTest.…";
    RecordingTest::SetUp();
  }
};

TEST_F(ObjectStorageTest, RecordingsAreKeptInTheBucketAndPlayBackOnlyThroughTheNode) {
  start_camera();
  ASSERT_TRUE(wait_for([&] { return recorded_ms() >= 8'000; }, 60s)) << server_.log();
  s3::Client bucket(recording::testing::test_s3_config());
  auto objects = bucket.list(prefix());
  ASSERT_TRUE(objects) << objects.error();
  EXPECT_GE(objects->size(), 5u) << "the init segment and a fragment an object";
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(server_.data_dir())) {
    files += e.is_regular_file() && e.path().extension() == ".mp4";
  }
  EXPECT_EQ(files, 0u) << "no media under the data directory";
  // What is in the bucket is sealed: no MP4 box readable there.
  auto raw = bucket.get(objects->front().key);
  ASSERT_TRUE(raw) << raw.error();
  const std::string head(raw->begin(), raw->begin() + std::min<size_t>(raw->size(), 64));
  EXPECT_EQ(head.substr(0, 4), "NJR1");

  // Playback of the segment still being written: every frame, in order.
  const auto r = recordings(now_ms() - 600'000, now_ms() + 60'000);
  const int64_t start = parse_ms(r["spans"][0]["start"]);
  const auto playlist_path = "/api/v1/devices/" + id_ +
                             "/playback.m3u8?from=" + std::to_string(start) +
                             "&to=" + std::to_string(start + 6'000);
  const auto counters = frame_counters(url(playlist_path), owner_);
  ASSERT_GE(counters.size(), 50u) << call("GET", playlist_path).body << server_.log();
  for (size_t i = 1; i < counters.size(); ++i) {
    ASSERT_EQ(counters[i], (counters[i - 1] + 1) & 0xffff) << "frame " << i;
  }
  const std::string segment_path = first_segment_path(start);
  const auto segment = call("GET", segment_path);
  ASSERT_EQ(segment.status, 200);
  EXPECT_EQ(segment.body.substr(4, 4), "ftyp");
  const auto clip =
      call("GET", "/api/v1/devices/" + id_ + "/clip.mp4?from=" + std::to_string(start + 1'000) +
                      "&to=" + std::to_string(start + 4'000));
  ASSERT_EQ(clip.status, 200) << clip.body;
  EXPECT_EQ(clip.body.substr(4, 4), "ftyp");

  // The bucket is not public: an unsigned or wrongly signed request gets nothing.
  const std::string object_url = recording::testing::test_s3_config().endpoint + "/" +
                                 recording::testing::test_s3_config().bucket + "/" +
                                 objects->front().key;
  EXPECT_EQ(run_command("curl -s -o /dev/null -w '%{http_code}' " + sh_quote(object_url)), "403");
  auto wrong = recording::testing::test_s3_config();
  wrong.credentials.secret_key = "not-the-secret";
  EXPECT_FALSE(s3::Client(wrong).get(objects->front().key));

  // Unbinding: every object of the camera goes from the bucket.
  camera_.reset();
  ASSERT_EQ(call("DELETE", "/api/v1/devices/" + id_).status, 204);
  EXPECT_TRUE(wait_for(
      [&] {
        auto left = bucket.list(prefix());
        return left && left->empty();
      },
      15s))
      << "objects left in the bucket after unbind";
}

// The bucket away for 30 s (its gateway stopped; a gateway of the test's own): the recorder
// pauses, visibly (the recordings API and the metric say so), and resumes by itself when the
// bucket is back. The index never names a byte the bucket does not hold: the recording
// before the outage and the one after both play, frame by frame, with the gap between them.
class ObjectStorageOutageTest : public ObjectStorageTest {
 protected:
  static recording::testing::TempRgw& rgw() {
    static recording::testing::TempRgw own;
    return own;
  }
  ObjectStorageOutageTest() : ObjectStorageTest(own_config()) {}
  static std::string own_config() {
    if (!recording::testing::on_s3() || rgw().dir().empty()) return "";
    return storage_config(recording::testing::test_s3_config(rgw().dir()), "outage/");
  }
  bool plays(int64_t from, int64_t to) {
    const auto path = "/api/v1/devices/" + id_ + "/playback.m3u8?from=" + std::to_string(from) +
                      "&to=" + std::to_string(to);
    const auto counters = frame_counters(url(path), owner_);
    if (counters.size() < 20) return false;
    for (size_t i = 1; i < counters.size(); ++i) {
      if (counters[i] != ((counters[i - 1] + 1) & 0xffff)) return false;
    }
    return true;
  }
};

// Event pictures and data exports are in the same bucket: while it is away they answer 503
// storage_unavailable (try again), not 404 (there is none), and both are back with it.
TEST_F(ObjectStorageOutageTest, ThirtySecondsWithoutTheBucketPauseRecordingVisiblyAndItResumes) {
  ASSERT_FALSE(rgw().dir().empty()) << "the test's own gateway did not start";
  start_camera("--motion-every 8 --motion-for 2");
  ASSERT_TRUE(wait_for([&] { return recorded_ms() >= 5'000; }, 60s)) << server_.log();
  std::string picture_path;
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& e :
             call("GET", "/api/v1/events?kind=motion").json().value("events", json::array())) {
          if (!e["snapshot"].is_null()) {
            picture_path = "/api/v1/events/" + e["id"].get<std::string>() + "/snapshot.jpg";
          }
        }
        return !picture_path.empty();
      },
      30s))
      << server_.log();
  ASSERT_EQ(call("POST", "/api/v1/me/export").status, 202);
  json exported;
  ASSERT_TRUE(wait_for(
      [&] {
        exported = call("GET", "/api/v1/me/export").json()["export"];
        return exported.is_object() && exported["state"] == "ready";
      },
      30s))
      << exported.dump() << server_.log();
  const std::string download = exported["download"];
  ASSERT_EQ(call("GET", picture_path).body.substr(0, 2), "\xff\xd8");
  ASSERT_EQ(call("GET", download).body.substr(0, 2), "PK");
  s3::Client bucket(recording::testing::test_s3_config(rgw().dir()));
  for (const auto* kept : {"outage/pictures/", "outage/exports/"}) {
    auto objects = bucket.list(kept);
    ASSERT_TRUE(objects) << objects.error();
    EXPECT_FALSE(objects->empty()) << "nothing under " << kept;
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(server_.data_dir())) {
    EXPECT_FALSE(e.is_regular_file() &&
                 (e.path().extension() == ".jpg" || e.path().extension() == ".zip"))
        << e.path() << " is in the node's own files";
  }
  const auto state = [&] {
    return recordings(now_ms() - 600'000, now_ms() + 60'000)["recorder"].value("state", "");
  };
  ASSERT_TRUE(rgw().stop_gateway());
  const auto down_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_for([&] { return state() == "paused"; }, 15s)) << state();
  EXPECT_TRUE(wait_for(  // the gauge follows at the recording jobs' next step (5 s)
      [&] {
        return server_.get("/metrics").body.find("nightjar_recorders_paused 1\n") !=
               std::string::npos;
      },
      10s));
  const auto segment_path = first_segment_path(now_ms() - 600'000);
  ASSERT_FALSE(segment_path.empty());
  for (const auto& path : {picture_path, download, segment_path}) {
    const auto away = call("GET", path);
    EXPECT_EQ(away.status, 503) << path << " " << away.body;
    EXPECT_NE(away.body.find("storage_unavailable"), std::string::npos) << away.body;
    EXPECT_EQ(away.header("retry-after"), "5");
  }
  std::this_thread::sleep_until(down_at + 30s);
  ASSERT_TRUE(rgw().start_gateway());
  EXPECT_TRUE(wait_for([&] { return state() == "recording"; }, 30s)) << server_.log();
  const auto picture = call("GET", picture_path);
  EXPECT_EQ(picture.status, 200);
  EXPECT_EQ(picture.body.substr(0, 2), "\xff\xd8");
  const auto zip = call("GET", download);
  EXPECT_EQ(zip.status, 200);
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  const int64_t before_resume = recorded_ms();
  ASSERT_TRUE(wait_for([&] { return recorded_ms() >= before_resume + 5'000; }, 30s));

  const auto r = recordings(now_ms() - 600'000, now_ms() + 60'000);
  ASSERT_GE(r["spans"].size(), 2u) << r.dump();
  const auto& first = r["spans"][0];
  const auto& last = r["spans"][r["spans"].size() - 1];
  EXPECT_GE(parse_ms(last["start"]) - parse_ms(first["end"]), 20'000) << "the outage is a gap";
  EXPECT_TRUE(plays(parse_ms(first["start"]), parse_ms(first["start"]) + 3'000)) << "before";
  EXPECT_TRUE(plays(parse_ms(last["start"]), parse_ms(last["start"]) + 3'000)) << "after";
}

}  // namespace
}  // namespace nj::testing
