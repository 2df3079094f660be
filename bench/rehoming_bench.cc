// Re-homing after a node is killed (issue #17): three nodes sharing one PostgreSQL and one
// broker (tests/integration/cluster_fixture.h), one simulated camera living on each, and a
// viewer of every camera on every node, each behaving as the web app's player. Each round
// kills (SIGKILL) the node holding the next camera, times how long until that camera plays
// again for the viewers on both survivors, restarts the killed node and waits until the
// camera plays again there too. Prints each round and the p50 and max.
//   NJ_TEST_POSTGRES=1 build/release/bin/bench_rehoming [rounds]
// (NJ_TEST_POSTGRES_DIR=… to use a running throwaway cluster, NJ_TEST_S3_DIR=… for a bucket.)
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "integration/cluster_fixture.h"
#include "store/test_postgres.h"

using namespace nj::testing;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10;
  if (!nj::store::testing::on_postgres()) {
    std::fputs("bench_rehoming: set NJ_TEST_POSTGRES=1 (several nodes need PostgreSQL)\n", stderr);
    return 2;
  }
  TestCluster three({"node-a", "node-b", "node-c"}, "[devices]\nidle_stream_grace_ms = 30000\n");
  if (const auto e = three.start(); !e.empty()) {
    std::fprintf(stderr, "bench_rehoming: %s\n", e.c_str());
    return 1;
  }
  std::map<std::string, std::string> serial_on;  // node → serial
  for (int i = 0; serial_on.size() < 3 && i < 1000; ++i) {
    const std::string serial = "REHOME-" + std::to_string(i);
    serial_on.try_emplace(nj::cluster::owner_of(serial, three.ids()), serial);
  }
  const auto owner = sign_up(three.first(), "bench@example.org");
  std::map<std::string, std::string> device_of;
  for (const auto& [holder, serial] : serial_on) device_of[serial] = three.camera(serial, owner);
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Viewer>> viewers;
  for (const auto& id : three.ids()) {
    for (const auto& [holder, serial] : serial_on) {
      auto v = std::make_unique<Viewer>(three.node(id), device_of[serial], owner);
      if (!v->playing_again(std::chrono::steady_clock::now(), 30s)) {
        std::fprintf(stderr, "bench_rehoming: %s does not play on %s\n", serial.c_str(),
                     id.c_str());
        return 1;
      }
      viewers[{id, serial}] = std::move(v);
    }
  }
  std::vector<double> rehomed_ms;
  for (int round = 0; round < rounds; ++round) {
    const auto& victim_node = three.ids()[static_cast<size_t>(round) % three.ids().size()];
    const auto& serial = serial_on[victim_node];
    std::vector<std::string> survivors;
    for (const auto& id : three.ids()) {
      if (id != victim_node) survivors.push_back(id);
    }
    for (const auto& s : survivors) {  // fresh, so nothing old is waiting to be read
      (void)viewers[{s, serial}]->connect();
      (void)viewers[{s, serial}]->read(1500ms);
    }
    const auto killed = std::chrono::steady_clock::now();
    three.node(victim_node).stop(SIGKILL);
    double worst = 0;
    for (const auto& s : survivors) {
      const auto took = viewers[{s, serial}]->playing_again(killed, 30s, true);
      worst = std::max(worst, took ? static_cast<double>(took->count()) : 30'000.0);
      if (!took) {
        std::fprintf(stderr, "bench_rehoming: the camera's log:\n%s\n",
                     run_command("tail -30 " + sh_quote((three.dir() / (serial + ".log")).string()))
                         .c_str());
        std::fprintf(stderr, "bench_rehoming: %s never played again on %s; its log:\n",
                     serial.c_str(), s.c_str());
        std::istringstream log(three.node(s).log());
        for (std::string line; std::getline(log, line);) {
          if (line.find("http.access") == std::string::npos) {
            std::fprintf(stderr, "  %s\n", line.c_str());
          }
        }
      }
    }
    rehomed_ms.push_back(worst);
    std::printf("round %d: killed %s, %s plays again on %s and %s after %.0f ms\n", round + 1,
                victim_node.c_str(), serial.c_str(), survivors[0].c_str(), survivors[1].c_str(),
                worst);
    std::fflush(stdout);
    if (!three.node(victim_node).start()) {
      std::fprintf(stderr, "bench_rehoming: %s did not come back\n", victim_node.c_str());
      return 1;
    }
    viewers[{victim_node, serial}] =
        std::make_unique<Viewer>(three.node(victim_node), device_of[serial], owner);
    const auto back = std::chrono::steady_clock::now();
    for (const auto& id : three.ids()) {
      (void)viewers[{id, serial}]->playing_again(back, 30s, id != victim_node);
    }
    // The others' viewers on the node that came back are new too.
    for (const auto& [holder, other] : serial_on) {
      if (other == serial) continue;
      viewers[{victim_node, other}] =
          std::make_unique<Viewer>(three.node(victim_node), device_of[other], owner);
      (void)viewers[{victim_node, other}]->playing_again(std::chrono::steady_clock::now(), 30s);
    }
  }
  auto sorted = rehomed_ms;
  std::sort(sorted.begin(), sorted.end());
  std::printf("re-homing after SIGKILL over %d kills: p50 %.0f ms, max %.0f ms\n", rounds,
              sorted[sorted.size() / 2], sorted.back());
  return 0;
}
