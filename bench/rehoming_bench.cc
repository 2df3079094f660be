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
#include <optional>
#include <sstream>
#include <string>
#include <thread>
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
  // Recorded all along: each kill's recording gap is measured too.
  if (three.first().admin("plan create --name week --days 7 --mode continuous").empty()) {
    std::fputs("bench_rehoming: no plan\n", stderr);
    return 1;
  }
  for (const auto& [holder, serial] : serial_on) {
    (void)three.first().admin("plan grant --serial " + serial + " --plan week --for-days 30");
  }
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
  std::vector<double> rehomed_ms, gaps_ms, back_gaps_ms;
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
    const int64_t killed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
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
    // The recording's gap: from the end of what the killed node wrote (finished by its own
    // recovery as it came back) to the start of what the new holder wrote next.
    const std::string rows_query =
        "SELECT s.start_ms, s.end_ms, s.writer, s.state FROM recording_segments s JOIN devices "
        "d ON d.id = s.device_id WHERE d.serial = '" +
        serial + "' AND s.bytes > s.init_size ORDER BY s.start_ms";
    struct Row {
      long long start = 0, end = 0;
      std::string writer, state;
    };
    const auto read_rows = [&] {
      std::vector<Row> rows;
      std::istringstream lines(three.first().sql(rows_query));
      for (std::string line; std::getline(lines, line);) {
        Row r;
        char writer[64] = {0}, state[16] = {0};
        if (std::sscanf(line.c_str(), "%lld|%lld|%63[^|]|%15s", &r.start, &r.end, writer, state) ==
            4) {
          r.writer = writer;
          r.state = state;
          rows.push_back(r);
        }
      }
      return rows;
    };
    std::optional<int64_t> gap;
    for (int i = 0; i < 100 && !gap; ++i) {
      const auto rows = read_rows();
      // The killed node's last segment before the kill, and the next one by another node
      // that begins about where it ends (not one of a hand-over before it: a node that lost
      // the camera a moment after it came back may hold a short segment from then).
      std::optional<size_t> last;
      for (size_t k = 0; k < rows.size(); ++k) {
        if (rows[k].writer == victim_node && rows[k].start < killed_ms) last = k;
      }
      if (last && rows[*last].state == "closed") {
        for (size_t k = *last + 1; k < rows.size(); ++k) {
          if (rows[k].writer != victim_node && rows[k].start >= rows[*last].end - 5'000) {
            gap = rows[k].start - rows[*last].end;
            break;
          }
        }
      }
      if (!gap) std::this_thread::sleep_for(200ms);
    }
    if (gap) {
      gaps_ms.push_back(static_cast<double>(*gap));
      std::printf("round %d: the recording's gap %lld ms\n", round + 1,
                  static_cast<long long>(*gap));
      if (*gap > 1100) {
        std::printf("  killed at %lld; segments (start|end|writer|state):\n%s",
                    static_cast<long long>(killed_ms), three.first().sql(rows_query).c_str());
      }
    } else {
      std::printf("round %d: no gap found in\n%s", round + 1,
                  three.first().sql(rows_query).c_str());
    }
    // The hand-over back to the node that came back (planned: the camera reaches it before it
    // leaves the survivor, and moves at a keyframe): from the end of the survivor's segment
    // to the start of the returned node's next one; 0 is neither a gap nor an overlap.
    std::optional<int64_t> back_gap;
    for (int i = 0; i < 100 && !back_gap; ++i) {
      const auto rows = read_rows();
      for (size_t k = 1; k < rows.size(); ++k) {
        if (rows[k].writer == victim_node && rows[k].start > killed_ms &&
            rows[k - 1].writer != victim_node && rows[k - 1].state == "closed") {
          back_gap = rows[k].start - rows[k - 1].end;
          break;
        }
      }
      if (!back_gap) std::this_thread::sleep_for(200ms);
    }
    if (back_gap) {
      back_gaps_ms.push_back(static_cast<double>(*back_gap));
      std::printf("round %d: the hand-over back, gap %lld ms\n", round + 1,
                  static_cast<long long>(*back_gap));
    } else {
      std::printf("round %d: no hand-over back found in\n%s", round + 1,
                  three.first().sql(rows_query).c_str());
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
  if (!gaps_ms.empty()) {
    std::sort(gaps_ms.begin(), gaps_ms.end());
    std::printf("recording gap over %zu kills: p50 %.0f ms, max %.0f ms (negative: overlap)\n",
                gaps_ms.size(), gaps_ms[gaps_ms.size() / 2], gaps_ms.back());
  }
  if (!back_gaps_ms.empty()) {
    std::sort(back_gaps_ms.begin(), back_gaps_ms.end());
    std::printf(
        "recording at the hand-over back over %zu returns: min %.0f ms, p50 %.0f ms, max %.0f ms "
        "(negative: overlap)\n",
        back_gaps_ms.size(), back_gaps_ms.front(), back_gaps_ms[back_gaps_ms.size() / 2],
        back_gaps_ms.back());
  }
  return 0;
}
