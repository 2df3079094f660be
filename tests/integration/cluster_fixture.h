// Several nodes as an operator runs them (issue #17), for tests and benchmarks: one broker
// (`nightjar broker`), one database (the first node's), the shared key directories and, when
// the run has one, one S3 bucket; simulated cameras on the broker; viewers that behave as the
// web app's player.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"
#include "recording/test_store.h"

namespace nj::testing {

// Whether the node sees n nodes alive, by its metrics.
inline bool nodes_seen(const ServerProcess& node, int n) {
  return node.get("/metrics").body.find("nightjar_cluster_nodes " + std::to_string(n) + "\n") !=
         std::string::npos;
}

// How many cameras the node records now, by its metrics (-1: unreadable).
inline int recorders(const ServerProcess& node) {
  const auto body = node.get("/metrics").body;
  const std::string name = "\nnightjar_recorders ";
  const auto at = body.find(name);
  return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + name.size());
}

// A viewer as the web app's player is one: it wakes the camera through its node
// (POST …/stream), watches the live WebSocket, and when the stream ends, wakes and
// connects again.
class Viewer {
 public:
  Viewer(const ServerProcess& node, std::string device_id, std::string bearer)
      : node_(&node), id_(std::move(device_id)), bearer_(std::move(bearer)) {}
  // Wakes and connects once; true if the socket is open.
  bool connect() {
    ws_.reset();
    if (call_as(*node_, bearer_, "POST", "/api/v1/devices/" + id_ + "/stream").status != 200) {
      return false;
    }
    ws_ = std::make_unique<WsClient>();
    return ws_->connect(node_->http_port(), "/api/v1/devices/" + id_ + "/live",
                        {{"Authorization", "Bearer " + bearer_}}) == 101;
  }
  // Reads what comes for `span`: how many media messages, and whether the stream ended.
  struct Seen {
    int media = 0;
    bool ended = false;
  };
  Seen read(std::chrono::milliseconds span) {
    Seen seen;
    const auto until = std::chrono::steady_clock::now() + span;
    while (ws_ && std::chrono::steady_clock::now() < until) {
      auto m = ws_->receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (!m) {
        seen.ended = ws_->closed();
        break;
      }
      if (!m->empty() && m->front() == '{') {
        if (m->find("\"ended\"") != std::string::npos) seen.ended = true;
        continue;
      }
      ++seen.media;
    }
    if (seen.ended) ws_.reset();
    return seen;
  }
  // Keeps watching, reconnecting as the player does, until media flow again (after the
  // stream ended first, with `after_end`); the time it took, or nullopt after `limit`.
  std::optional<std::chrono::milliseconds> playing_again(
      std::chrono::steady_clock::time_point since, std::chrono::milliseconds limit,
      bool after_end = false) {
    while (after_end && ws_ && std::chrono::steady_clock::now() - since < limit) {
      (void)read(std::chrono::milliseconds(100));  // what was on its way before: not "again"
    }
    while (std::chrono::steady_clock::now() - since < limit) {
      if (!ws_ && !connect()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (read(std::chrono::milliseconds(300)).media > 0) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - since);
      }
    }
    return std::nullopt;
  }

 private:
  const ServerProcess* node_;
  std::string id_, bearer_;
  std::unique_ptr<WsClient> ws_;
};

class TestCluster {
 public:
  // Nodes named `ids`, each with `config` (TOML tables) besides what sharing needs.
  explicit TestCluster(std::vector<std::string> ids, std::string config = "")
      : ids_(std::move(ids)),
        config_(std::move(config)),
        dir_(std::filesystem::temp_directory_path() /
             ("nj-cluster-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    std::filesystem::create_directories(dir_ / "keys");
  }
  ~TestCluster() {
    cameras_.clear();
    nodes_.clear();
    broker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // The broker, then every node; "" or what failed.
  std::string start() {
    broker_ = std::make_unique<BackgroundCommand>(
        "exec " + sh_quote(NJ_BIN_PATH) + " broker --port 0 --dir " +
        sh_quote((dir_ / "broker").string()) + " > " + sh_quote((dir_ / "broker.log").string()) +
        " 2>&1");
    if (!wait_for([&] { return std::filesystem::exists(dir_ / "broker" / "broker.json"); },
                  std::chrono::seconds(10))) {
      return "the broker did not start: " +
             run_command("cat " + sh_quote((dir_ / "broker.log").string()));
    }
    mqtt_ = nlohmann::json::parse(
        run_command("cat " + sh_quote((dir_ / "broker" / "broker.json").string())));
    const std::string storage =
        recording::testing::on_s3()
            ? recording::testing::server_storage_config(recording::testing::test_s3_config(),
                                                        recording::testing::fresh_prefix())
            : "[recording]\nsegment_minutes = 1\nreserve_mb = 0\n";
    for (const auto& id : ids_) {
      auto node = std::make_unique<ServerProcess>(
          "keys = \"" + (dir_ / "at-rest").string() + "\"\n[cluster]\nnode = \"" + id +
          "\"\nkeys_dir = \"" + (dir_ / "keys").string() +
          "\"\n[mqtt]\nexternal_host = \"127.0.0.1\"\nexternal_port = " +
          std::to_string(mqtt_port()) + "\nadmin_username = \"" +
          mqtt_["admin_username"].get<std::string>() + "\"\nadmin_password = \"" +
          mqtt_["admin_password"].get<std::string>() + "\"\ndevice_logins = \"" +
          mqtt_.value("device_logins", "dynsec") + "\"\n" + storage + config_);
      if (!nodes_.empty()) node->share_database_of(*nodes_.front().second);
      node->set_admin_options("--shared-keys " + sh_quote((dir_ / "keys").string()));
      if (!node->start()) return id + " did not start:\n" + node->log();
      nodes_.emplace_back(id, std::move(node));
    }
    const int n = static_cast<int>(nodes_.size());
    if (!wait_for(
            [&] {
              for (auto& [id, node] : nodes_) {
                if (!nodes_seen(*node, n)) return false;
              }
              return true;
            },
            std::chrono::seconds(5))) {
      return "the nodes do not see each other";
    }
    return "";
  }
  ServerProcess& node(const std::string& id) {
    for (auto& [name, node] : nodes_) {
      if (name == id) return *node;
    }
    std::abort();
  }
  ServerProcess& first() { return *nodes_.front().second; }
  const std::vector<std::string>& ids() const { return ids_; }
  int mqtt_port() const { return mqtt_["port"].get<int>(); }
  const std::filesystem::path& dir() const { return dir_; }
  // Registers a camera, binds it to the person (by label, through the first node) and starts
  // it (nightjar-cam --simulate, a 1 s GOP) on the broker; its device id, or "".
  std::string camera(const std::string& serial, const std::string& bearer) {
    const auto secret = add_device(first(), serial);
    if (secret.empty()) return "";
    std::ofstream(dir_ / (serial + ".secret")) << secret << "\n";
    auto id = bind_by_label(first(), serial, bearer);
    if (id.empty()) return "";
    cameras_.emplace_back(
        serial, std::make_unique<BackgroundCommand>(
                    "exec " + sh_quote(camera_binary()) + " --serial " + serial +
                    " --secret-file " + sh_quote((dir_ / (serial + ".secret")).string()) +
                    " --simulate --size 320x240 --fps 10 --gop-seconds 1 --mqtt mqtt://127.0.0.1:" +
                    std::to_string(mqtt_port()) + " >> " +
                    sh_quote((dir_ / (serial + ".log")).string()) + " 2>&1"));
    return id;
  }
  // What that camera has logged.
  std::string camera_log(const std::string& serial) const {
    std::ifstream in(dir_ / (serial + ".log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Stops that camera as one is switched off (SIGTERM: it says it is offline first).
  void stop_camera(const std::string& serial) {
    std::erase_if(cameras_, [&](const auto& c) { return c.first == serial; });
  }

 private:
  std::vector<std::string> ids_;
  std::string config_;
  std::filesystem::path dir_;
  std::unique_ptr<BackgroundCommand> broker_;
  nlohmann::json mqtt_;
  std::vector<std::pair<std::string, std::unique_ptr<ServerProcess>>> nodes_;
  std::vector<std::pair<std::string, std::unique_ptr<BackgroundCommand>>> cameras_;
};

}  // namespace nj::testing
