// nightjar-cam: the device agent a camera (or a gateway beside cameras) runs. It takes its
// media from a synthetic scene (--simulate) or a LAN camera (--source), connects out to the
// cloud's broker with its own credentials, and pushes its stream when the cloud asks.
#include <curl/curl.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "agent.h"
#include "common/stop_signals.h"
#include "device_protocol/json_input.h"
#include "options.h"
#include "simulator.h"
#include "softap.h"

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Asks the server where its broker is: GET /api/v1/device-endpoints → {"mqtt": "mqtt://…"}.
std::string discover_mqtt(const std::string& server) {
  std::string body;
  CURL* curl = curl_easy_init();
  if (!curl) return {};
  const std::string url = server + (server.ends_with("/") ? "" : "/") + "api/v1/device-endpoints";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status != 200) return {};
  const auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j.contains("mqtt") && j["mqtt"].is_string() ? j["mqtt"].get<std::string>()
                                                                      : std::string();
}

size_t ignore(char*, size_t size, size_t n, void*) { return size * n; }

// PUTs an event's picture to the cloud with the device's credentials (HTTP Basic).
bool upload_picture(const std::string& url, const std::string& serial, const std::string& secret,
                    const std::string& jpeg) {
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: image/jpeg");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, jpeg.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(jpeg.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, serial.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, secret.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // the credentials go nowhere else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ignore);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status == 204;
}

bool split_mqtt_url(const std::string& url, std::string& host, uint16_t& port) {
  const bool tls = url.starts_with("mqtts://");
  if (!tls && !url.starts_with("mqtt://")) return false;
  std::string rest = url.substr(tls ? 8 : 7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    host = rest;
    port = tls ? 8883 : 1883;
  } else {
    host = rest.substr(0, colon);
    const int p = std::atoi(rest.substr(colon + 1).c_str());
    if (p <= 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return !host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (auto a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(nj::cam::usage().c_str(), stdout);
      return 0;
    }
  }
  auto options = nj::cam::parse_options(args);
  if (!options) {
    std::fprintf(stderr, "nightjar-cam: %s\n%s", options.error().c_str(), nj::cam::usage().c_str());
    return 2;
  }
  std::ifstream secret_in(options->secret_file);
  std::string secret;
  std::getline(secret_in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  if (secret.empty()) {
    std::fprintf(stderr, "nightjar-cam: no secret in %s\n", options->secret_file.c_str());
    return 2;
  }
  // Signals go to sigwait below, not to whichever thread is running.
  const sigset_t signals = nj::block_stop_signals();
  // A broker that drops us (a kick, a restart) must not kill us with SIGPIPE on the next
  // publish: libmosquitto leaves that to the application.
  signal(SIGPIPE, SIG_IGN);

  nj::net::IoPool pool(1);
  pool.start();

  // Where the cloud is, and (the first time) a token that binds this camera to the account
  // that made it: from a QR payload given on the command line, or posted by the app to the
  // SoftAP endpoint. Remembered in the state directory (never the token or Wi-Fi password),
  // so a provisioned camera that restarts goes straight back to its cloud.
  const std::filesystem::path state_dir =
      options->state_dir.empty() ? options->secret_file.parent_path() : options->state_dir;
  std::string claim_token;
  std::optional<nj::cam::Provision> provision;
  std::unique_ptr<nj::cam::SoftAp> softap;
  if (!options->provision.empty()) {
    auto parsed = nj::cam::parse_provision(options->provision);
    if (!parsed) {
      std::fprintf(stderr, "nightjar-cam: --provision: %s\n", parsed.error().c_str());
      return 2;
    }
    provision = *parsed;
  } else if (!options->softap.empty() && options->server.empty() && options->mqtt.empty()) {
    std::ifstream in(state_dir / "cloud.json");
    // Our own file, but read as carefully as anything else: a damaged one is ignored.
    const auto saved = nlohmann::json::parse(in, nullptr, false);
    nj::device_protocol::ObjectReader cloud(saved);
    auto server = cloud.string("server", 2048);
    auto mqtt = cloud.string("mqtt", 2048);
    auto broker_cert = cloud.string("broker_cert", 4096);
    if (cloud.ok()) {
      options->server = server.value_or("");
      options->mqtt = mqtt.value_or("");
      options->broker_cert = broker_cert.value_or("");
    }
    if (options->server.empty() && options->mqtt.empty()) {
      const auto colon = options->softap.rfind(':');
      softap = std::make_unique<nj::cam::SoftAp>(pool,
                                                 nlohmann::json{{"serial", options->serial},
                                                                {"model", "nightjar-cam"},
                                                                {"firmware", "nightjar-cam 0.1"}},
                                                 options->pairing_code);
      auto port =
          softap->listen(options->softap.substr(0, colon),
                         static_cast<uint16_t>(std::atoi(options->softap.c_str() + colon + 1)));
      if (!port) {
        std::fprintf(stderr, "nightjar-cam: --softap: %s\n", port.error().c_str());
        pool.shutdown();
        return 1;
      }
      spdlog::info("cam.softap.listening port={}", *port);
      while (!provision) {
        provision = softap->wait(std::chrono::milliseconds(200));
        timespec none{0, 0};
        siginfo_t info;
        if (!provision && sigtimedwait(&signals, &info, &none) > 0) {
          pool.shutdown();
          return 0;
        }
      }
      softap->close();  // the hotspot's job is done: nothing listens there any more
    }
  }
  if (provision) {
    // The secret goes only to a broker the camera can authenticate: the one whose
    // certificate came in the payload (which the app proved with the label's code, or the
    // camera's own scanner read). A payload without one is refused.
    if (provision->mqtts.empty()) {
      std::fprintf(stderr,
                   "nightjar-cam: the payload names no broker the camera can authenticate "
                   "(mqtts and broker_cert): the secret stays here\n");
      pool.shutdown();
      return 2;
    }
    claim_token = provision->token;
    if (options->server.empty()) options->server = provision->server;
    std::error_code cert_ec;
    std::filesystem::create_directories(state_dir, cert_ec);
    const auto pinned = state_dir / "broker.crt";
    std::ofstream(pinned, std::ios::trunc) << provision->broker_cert;
    options->mqtt = provision->mqtts;
    options->broker_cert = pinned.string();
    // A camera would join this network now; this host has its own networking.
    if (!provision->wifi_ssid.empty()) {
      spdlog::info("cam.provision wifi_ssid=\"{}\" applied=false", provision->wifi_ssid);
    }
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    std::ofstream(state_dir / "cloud.json", std::ios::trunc) << nlohmann::json{
        {"server", options->server},
        {"mqtt", options->mqtt},
        {"broker_cert", options->broker_cert}}.dump();
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::string mqtt_url = options->mqtt;
  for (int attempt = 0; mqtt_url.empty(); ++attempt) {
    mqtt_url = discover_mqtt(options->server);
    if (!mqtt_url.empty()) break;
    spdlog::warn("cam.discovery.failed server={} retry_in_s={}", options->server,
                 std::min(30, 1 << std::min(attempt, 5)));
    timespec wait{std::min(30, 1 << std::min(attempt, 5)), 0};
    siginfo_t info;
    if (sigtimedwait(&signals, &info, &wait) > 0) {
      pool.shutdown();  // before the SoftAP endpoint goes, whose connections it runs
      return 0;
    }
  }
  nj::cam::AgentOptions agent_options;
  agent_options.serial = options->serial;
  agent_options.secret = secret;
  agent_options.claim_token = claim_token;
  agent_options.telemetry_interval = std::chrono::seconds(options->telemetry_seconds);
  agent_options.backlog = std::chrono::seconds(options->backlog_seconds);
  if (!split_mqtt_url(mqtt_url, agent_options.mqtt_host, agent_options.mqtt_port)) {
    std::fprintf(stderr, "nightjar-cam: bad broker URL %s\n", mqtt_url.c_str());
    return 2;
  }
  if (mqtt_url.starts_with("mqtts://")) {
    if (options->broker_cert.empty()) {
      std::fprintf(stderr, "nightjar-cam: %s needs the broker's certificate\n", mqtt_url.c_str());
      return 2;
    }
    agent_options.mqtt_tls_ca_file = options->broker_cert;
  }
  agent_options.state_dir = state_dir;
  nj::media::hub::Hub hub;
  const std::string media_path = "camera";
  // The detector's verdicts reach the agent, which exists only once the media run.
  struct MotionRelay {
    std::mutex mu;
    nj::cam::Agent* agent = nullptr;
    bool active = false;
    void set(bool a) {
      std::lock_guard lock(mu);
      active = a;
      if (agent) agent->motion(a);
    }
    void attach(nj::cam::Agent* a) {
      std::lock_guard lock(mu);
      agent = a;
      if (agent && active) agent->motion(true);
    }
  } motion;
  std::unique_ptr<nj::cam::Simulator> simulator;
  // A gateway relays its LAN camera while not in privacy mode (then it lets go of it, so
  // nothing is pushed or written to the card).
  struct Relay {
    std::mutex mu;
    std::unique_ptr<nj::media::rtsp::Puller> puller;
    nj::media::rtsp::PullOptions options;
    void set(bool on, nj::net::IoPool& pool, nj::media::hub::Hub& hub) {
      std::unique_ptr<nj::media::rtsp::Puller> old;
      std::lock_guard lock(mu);
      if (on && !puller) puller = std::make_unique<nj::media::rtsp::Puller>(pool, hub, options);
      if (!on) old = std::move(puller);
    }
  } relay;
  if (options->simulate) {
    nj::cam::SimulatorOptions sim;
    sim.width = options->width;
    sim.height = options->height;
    sim.fps = options->fps;
    sim.gop_seconds = options->gop_seconds;
    sim.bitrate_kbps = options->bitrate_kbps;
    sim.motion_every_s = options->motion_every;
    sim.motion_for_s = options->motion_for;
    sim.intruder_person = options->intruder_person;
    sim.still = options->still;
    sim.sync_marks = options->sync_marks;
    if (!options->no_detector) sim.on_motion = [&motion](bool active) { motion.set(active); };
    auto started = nj::cam::Simulator::start(hub, media_path, sim);
    if (!started) {
      std::fprintf(stderr, "nightjar-cam: %s\n", started.error().c_str());
      return 1;
    }
    simulator = std::move(*started);
  } else if (!options->source.empty()) {
    relay.options.url = options->source;
    relay.options.path = media_path;
    relay.set(true, pool, hub);
  }
  spdlog::info("cam.start serial={} broker={}:{} media={}", options->serial,
               agent_options.mqtt_host, agent_options.mqtt_port,
               simulator ? "simulated" : (!options->source.empty() ? "relayed" : "none"));
  std::unique_ptr<nj::cam::SdCard> sd;
  if (!options->sd_dir.empty()) {
    sd = std::make_unique<nj::cam::SdCard>(
        hub, media_path,
        nj::cam::SdOptions{options->sd_dir, uint64_t(options->sd_size_mb) * 1024 * 1024,
                           std::chrono::seconds(options->sd_segment_seconds)});
  }
  // The settings the camera keeps, shown in the simulated picture and sound.
  if (simulator) {
    // It takes its own pictures for events while not streaming (a gateway cannot: it would
    // have to decode its LAN camera; the cloud then wakes its stream instead).
    agent_options.snapshot = [sim = simulator.get()] { return sim->jpeg(); };
    agent_options.upload = [serial = agent_options.serial, secret = agent_options.secret](
                               const std::string& url, const std::string& jpeg) {
      return upload_picture(url, serial, secret, jpeg);
    };
    agent_options.on_settings =
        [sim = simulator.get()](const nj::device_protocol::CameraSettings& s) {
          sim->set_look({.mirror = s.mirror.value_or(false),
                         .flip = s.flip.value_or(false),
                         .night = s.night_mode.value_or("auto") == "on",
                         .muted = !s.microphone.value_or(true),
                         .covered = s.privacy_mode.value_or(false)});
        };
  } else if (!options->source.empty()) {
    agent_options.on_settings = [&relay, &pool,
                                 &hub](const nj::device_protocol::CameraSettings& s) {
      relay.set(!s.privacy_mode.value_or(false), pool, hub);
    };
  }
  // Two-way talk: what is said through the app plays on the speaker.
  // A gateway's speaker is its LAN camera's, over the ONVIF back-channel.
  std::unique_ptr<nj::cam::Speaker> speaker;
  if (!options->speaker.empty()) {
    speaker = std::make_unique<nj::cam::WavSpeaker>(options->speaker);
  } else if (!options->source.empty()) {
    speaker = std::make_unique<nj::cam::BackchannelSpeaker>(pool, options->source);
  }
  agent_options.speaker = speaker.get();
  {
    nj::cam::Agent agent(pool, hub, agent_options, media_path, sd.get());
    motion.attach(&agent);
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("cam.stop signal={}", sig);
    motion.attach(nullptr);
  }
  sd.reset();
  relay.set(false, pool, hub);
  simulator.reset();
  pool.shutdown();
  softap.reset();
  curl_global_cleanup();
  return 0;
}
