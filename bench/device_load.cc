// The device load tool: many light device agents in one process and one thread, each only
// holding an MQTT session as a camera would (its own credentials, a retained online state
// with a last will, rpc/req subscribed, RPCs answered, a bind token claimed once). It
// measures nothing itself; bench/load/device_load.sh measures the server while it runs.
//   device_load --mqtt HOST:PORT --devices FILE (serial,secret[,token] per line) --seconds N
//               [--events-per-second R --events-after S --events-log FILE]
// With events: from S seconds on, motion starts and ends at R starts a second in all, the
// devices taking turns; each start's wall-clock time (µs) is logged as "serial time".
// With --talk-log FILE: a talk.start makes the device play talk/{serial} over RTSP, as
// nightjar-cam does; each RTP packet's first 8 payload bytes are the sender's wall-clock µs
// (bench/load/talk_send.mjs puts them there), and "serial delay_us" is logged per packet.
#include <mosquitto.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "media/rtp/packet.h"
#include "media/rtsp/client_io.h"

namespace {

// Talk: the RTSP sessions the devices play, and what arrived.
struct Talk {
  nj::net::IoPool* pool = nullptr;
  std::mutex mu;
  std::ofstream log;
  std::vector<std::shared_ptr<nj::media::rtsp::ClientLink>> links;
  uint64_t packets = 0;
};
Talk* talk = nullptr;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void play_talk(const std::string& serial, const std::string& url) {
  auto parsed = nj::media::rtsp::parse_client_url(url);
  if (!talk || !parsed) return;
  nj::media::rtsp::LinkHooks hooks;
  hooks.described = [](const nj::media::sdp::Session& s) {
    return s.media.size() == 1 ? std::vector<int>{0} : std::vector<int>{};
  };
  hooks.media = [serial](int, bool rtcp, std::span<const uint8_t> packet) {
    auto p = nj::media::rtp::parse(packet);
    if (rtcp || !p || p->payload.size() < 8) return;
    int64_t sent = 0;
    for (int i = 0; i < 8; ++i) sent = (sent << 8) | p->payload[i];
    const int64_t delay = now_us() - sent;
    std::lock_guard lock(talk->mu);
    ++talk->packets;
    talk->log << serial << ' ' << delay << '\n';
  };
  auto link = nj::media::rtsp::ClientLink::open(*talk->pool, std::move(*parsed),
                                                nj::media::rtsp::ClientSession::Mode::kPlay, hooks);
  std::lock_guard lock(talk->mu);
  talk->links.push_back(std::move(link));
}

struct Device {
  std::string serial, secret, token;
  mosquitto* m = nullptr;
  bool connected = false;
  bool claimed = false;
  uint64_t answered = 0;
};

std::string topic(const Device& d, const char* leaf) { return "nj/v1/" + d.serial + "/" + leaf; }

void on_connect(mosquitto* m, void* user, int rc) {
  auto* d = static_cast<Device*>(user);
  if (rc != 0) return;
  d->connected = true;
  const std::string online = R"({"online":true,"firmware":"device_load"})";
  mosquitto_publish(m, nullptr, topic(*d, "state").c_str(), static_cast<int>(online.size()),
                    online.data(), 1, true);
  mosquitto_subscribe(m, nullptr, topic(*d, "rpc/req").c_str(), 1);
  if (!d->token.empty() && !d->claimed) {
    const std::string claim = nlohmann::json{{"token", d->token}}.dump();
    mosquitto_publish(m, nullptr, topic(*d, "claim").c_str(), static_cast<int>(claim.size()),
                      claim.data(), 1, false);
  }
}

void on_disconnect(mosquitto*, void* user, int) { static_cast<Device*>(user)->connected = false; }

// Answers as nightjar-cam does: config.set echoes the settings, others succeed empty.
void on_message(mosquitto* m, void* user, const mosquitto_message* msg) {
  auto* d = static_cast<Device*>(user);
  const auto req = nlohmann::json::parse(
      std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen)),
      nullptr, false);
  if (!req.is_object() || !req.contains("id")) return;
  if (req.value("method", "") == "bind.result") {
    d->claimed = true;
    return;
  }
  nlohmann::json answer = {{"id", req["id"]}};
  if (req.value("method", "") == "talk.start" && req.contains("params") &&
      req["params"].is_object() && req["params"].value("url", "").starts_with("rtsp://")) {
    play_talk(d->serial, req["params"]["url"].get<std::string>());
  }
  if (req.value("method", "") == "config.set") {
    answer["result"] = {{"settings", req.value("params", nlohmann::json::object())}};
  } else {
    answer["result"] = nlohmann::json::object();
  }
  const std::string text = answer.dump();
  mosquitto_publish(m, nullptr, topic(*d, "rpc/res").c_str(), static_cast<int>(text.size()),
                    text.data(), 1, false);
  ++d->answered;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", file;
  int port = 1883, seconds = 30;
  double events_per_second = 0;
  int events_after = 10;
  std::string events_log, talk_log;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mqtt") {
      host = value.substr(0, value.rfind(':'));
      port = std::atoi(value.substr(value.rfind(':') + 1).c_str());
    } else if (flag == "--devices") {
      file = value;
    } else if (flag == "--seconds") {
      seconds = std::atoi(value.c_str());
    } else if (flag == "--events-per-second") {
      events_per_second = std::atof(value.c_str());
    } else if (flag == "--events-after") {
      events_after = std::atoi(value.c_str());
    } else if (flag == "--events-log") {
      events_log = value;
    } else if (flag == "--talk-log") {
      talk_log = value;
    }
  }
  std::vector<Device> devices;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    Device d;
    const size_t a = line.find(','), b = line.find(',', a + 1);
    if (a == std::string::npos) continue;
    d.serial = line.substr(0, a);
    d.secret = line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (b != std::string::npos) d.token = line.substr(b + 1);
    devices.push_back(std::move(d));
  }
  if (devices.empty()) {
    std::fprintf(stderr, "usage: device_load --mqtt HOST:PORT --devices FILE --seconds N\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<nj::net::IoPool> pool;
  Talk talking;
  if (!talk_log.empty()) {
    pool = std::make_unique<nj::net::IoPool>(1);
    pool->start();
    talking.pool = pool.get();
    talking.log.open(talk_log);
    talk = &talking;
  }
  mosquitto_lib_init();
  for (auto& d : devices) {
    d.m = mosquitto_new(("load-" + d.serial).c_str(), true, &d);
    mosquitto_username_pw_set(d.m, d.serial.c_str(), d.secret.c_str());
    mosquitto_int_option(d.m, MOSQ_OPT_TCP_NODELAY, 1);
    const std::string offline = R"({"online":false})";
    mosquitto_will_set(d.m, topic(d, "state").c_str(), static_cast<int>(offline.size()),
                       offline.data(), 1, true);
    mosquitto_connect_callback_set(d.m, on_connect);
    mosquitto_disconnect_callback_set(d.m, on_disconnect);
    mosquitto_message_callback_set(d.m, on_message);
    if (mosquitto_connect(d.m, host.c_str(), port, 60) != MOSQ_ERR_SUCCESS) {
      std::fprintf(stderr, "connect failed for %s\n", d.serial.c_str());
    }
  }
  // One thread for all: poll every socket, then let libmosquitto read, write and keep alive.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<pollfd> fds(devices.size());
  auto last_report = std::chrono::steady_clock::now();
  std::ofstream log;
  if (!events_log.empty()) log.open(events_log);
  const auto events_from = std::chrono::steady_clock::now() + std::chrono::seconds(events_after);
  uint64_t events_sent = 0;  // starts and ends, in turn per device
  while (std::chrono::steady_clock::now() < end) {
    // Due reports: one start (and, on the device's next turn, its end) per 1/R s.
    if (events_per_second > 0 && std::chrono::steady_clock::now() >= events_from) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - events_from).count();
      const auto due = static_cast<uint64_t>(elapsed * events_per_second * 2);
      while (events_sent < due) {
        // A pass of starts over every device, then a pass of their ends, and so on.
        auto& d = devices[events_sent % devices.size()];
        const bool start = (events_sent / devices.size()) % 2 == 0;
        ++events_sent;
        if (!d.connected) continue;
        const std::string e = start ? R"({"kind":"motion","state":"start","score":0.9})"
                                    : R"({"kind":"motion","state":"end"})";
        mosquitto_publish(d.m, nullptr, topic(d, "event").c_str(), static_cast<int>(e.size()),
                          e.data(), 1, false);
        if (start && log) {
          const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
          log << d.serial << ' ' << us << '\n';
        }
      }
    }
    for (size_t i = 0; i < devices.size(); ++i) {
      fds[i].fd = mosquitto_socket(devices[i].m);
      fds[i].events = POLLIN | (mosquitto_want_write(devices[i].m) ? POLLOUT : 0);
      fds[i].revents = 0;
    }
    poll(fds.data(), fds.size(), events_per_second > 0 ? 5 : 100);
    for (size_t i = 0; i < devices.size(); ++i) {
      auto* m = devices[i].m;
      if (fds[i].revents & POLLIN) mosquitto_loop_read(m, 1);
      if (fds[i].revents & POLLOUT) mosquitto_loop_write(m, 1);
      mosquitto_loop_misc(m);
      if (fds[i].fd < 0) mosquitto_reconnect(m);
    }
    if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(5)) {
      last_report = std::chrono::steady_clock::now();
      size_t up = 0, claimed = 0;
      uint64_t answered = 0;
      for (const auto& d : devices) {
        up += d.connected;
        claimed += d.claimed;
        answered += d.answered;
      }
      std::printf("devices connected=%zu claimed=%zu rpc_answered=%llu\n", up, claimed,
                  static_cast<unsigned long long>(answered));
      std::fflush(stdout);
    }
  }
  for (auto& d : devices) {
    mosquitto_disconnect(d.m);
    mosquitto_destroy(d.m);
  }
  mosquitto_lib_cleanup();
  if (pool) {
    {
      std::lock_guard lock(talking.mu);
      for (auto& link : talking.links) link->close();
      std::printf("talk packets=%llu\n", static_cast<unsigned long long>(talking.packets));
      talking.log.flush();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    pool->shutdown();
    talk = nullptr;
  }
  return 0;
}
