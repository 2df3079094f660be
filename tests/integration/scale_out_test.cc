// Scale-out (issue #17): an embedded install moved onto PostgreSQL with its people, cameras and
// sessions, checked table by table; two nodes on one database, where access ended through
// one ends what the other serves.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "cluster/cluster.h"
#include "integration/cluster_fixture.h"
#include "integration/fixture.h"
#include "store/test_postgres.h"

namespace nj::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Whether the node holds the lease `name` now, by its metrics.
// A serial that rendezvous hashing places on `node` among the cluster's nodes.
std::string serial_on(const TestCluster& cluster, const std::string& prefix,
                      const std::string& node) {
  for (int i = 0; i < 1000; ++i) {
    const std::string s = prefix + std::to_string(i);
    if (cluster::owner_of(s, cluster.ids()) == node) return s;
  }
  return "";
}

// What the shared database says of the camera's presence: "1\n" or "0\n".
std::string online_in(const ServerProcess& node, const std::string& serial) {
  return node.sql("SELECT online FROM devices WHERE serial = '" + serial + "'");
}

bool held(const ServerProcess& node, const std::string& name) {
  return node.get("/metrics").body.find("nightjar_leases_held{name=\"" + name + "\"} 1") !=
         std::string::npos;
}

// `nightjar admin migrate-to-postgres --from DIR --to URL`: what the SQLite install held is
// there on PostgreSQL (the account signs in with its password, its session still works, its
// camera is still its own), and the report counts and checks every table. A second run into
// the same database is refused and changes nothing.
TEST(MigrateToPostgres, AnEmbeddedInstallMovesOverAndWorksThere) {
  if (store::testing::on_postgres()) GTEST_SKIP() << "a move from SQLite";
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  const std::string bearer = sign_up(server, "mover@example.org");
  ASSERT_FALSE(bearer.empty());
  ASSERT_FALSE(add_device(server, "MOVE-1").empty());
  const std::string device = bind_by_label(server, "MOVE-1", bearer);
  ASSERT_FALSE(device.empty());
  std::string error;
  const std::string url = store::testing::fresh_database_url(&error);
  ASSERT_FALSE(url.empty()) << error;
  int status = -1;
  // While its server runs it is refused (the copy would be of no one moment), and nothing
  // is written: the same database takes the copy below.
  const std::string busy =
      server.admin("migrate-to-postgres --from " + sh_quote(server.data_dir().string()) + " --to " +
                       url + " 2>&1",
                   &status);
  EXPECT_EQ(status, 1) << busy;
  EXPECT_NE(busy.find("stop its server first"), std::string::npos) << busy;
  ASSERT_EQ(server.stop(), 0) << server.log();

  const std::string report =
      server.admin("migrate-to-postgres --from " + sh_quote(server.data_dir().string()) + " --to " +
                       url + " 2>&1",
                   &status);
  ASSERT_EQ(status, 0) << report;
  const auto summary = json::parse(report, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << report;
  EXPECT_EQ(summary["verified"], true);
  std::map<std::string, int64_t> rows;
  for (const auto& t : summary["tables"]) {
    rows[t["table"]] = t["rows"];
    EXPECT_EQ(t["checksum"].get<std::string>().size(), 16u) << t;
  }
  EXPECT_EQ(rows["users"], 1);
  EXPECT_EQ(rows["devices"], 1);
  EXPECT_GE(rows["sessions"], 1);

  server.use_postgres(url);
  ASSERT_TRUE(server.start()) << server.log();
  const auto me = call_as(server, bearer, "GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200) << "the session came along: " << me.body;
  EXPECT_EQ(me.json()["email"], "mover@example.org");
  const auto login = server.request(
      "POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
      json{{"email", "mover@example.org"}, {"password", "a long passphrase for mover@example.org"}}
          .dump());
  EXPECT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(call_as(server, bearer, "GET", "/api/v1/devices/" + device).status, 200);
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM users"), "1\n") << "it runs on PostgreSQL now";
  ASSERT_EQ(server.stop(), 0) << server.log();

  const std::string again =
      server.admin("migrate-to-postgres --from " + sh_quote(server.data_dir().string()) + " --to " +
                       url + " 2>&1",
                   &status);
  EXPECT_EQ(status, 1) << again;
  EXPECT_NE(again.find("not empty"), std::string::npos) << again;
}

// Two nodes on one PostgreSQL database and one broker: a family member watches a camera live
// through node B, and the owner revokes the share through node A. Node B hears of it through
// the database (LISTEN/NOTIFY) and ends the view at once; B checks no share on its own.
TEST(TwoNodes, AShareRevokedThroughOneNodeEndsAViewServedByTheOther) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  TestCluster two({"node-a", "node-b"}, "[devices]\nidle_stream_grace_ms = 30000\n");
  ASSERT_EQ(two.start(), "");
  ServerProcess &a = two.node("node-a"), &b = two.node("node-b");
  const auto owner = sign_up(a, "owner@example.org");
  const auto family = sign_up(a, "family@example.org");
  ASSERT_FALSE(owner.empty());
  ASSERT_FALSE(family.empty());

  // The family member watches through node B (the camera's stream lives on either node: B
  // serves it from the camera or through a relay from A; the access is B's to end).
  const std::string id = two.camera("NODE-1", owner);
  ASSERT_FALSE(id.empty());
  auto shared = call_as(a, owner, "POST", "/api/v1/devices/" + id + "/shares",
                        {{"email", "family@example.org"}, {"role", "viewer"}});
  ASSERT_EQ(shared.status, 201) << shared.body;
  const std::string share_id = shared.json().value("id", "");
  ASSERT_EQ(call_as(a, family, "POST", "/api/v1/shares/" + share_id + "/accept").status, 200);

  ASSERT_TRUE(wait_for(
      [&] { return call_as(b, family, "POST", "/api/v1/devices/" + id + "/stream").status == 200; },
      20s))
      << b.log();
  WsClient live;
  ASSERT_EQ(live.connect(b.http_port(), "/api/v1/devices/" + id + "/live",
                         {{"Authorization", "Bearer " + family}}),
            101);
  ASSERT_TRUE(live.receive(5s)) << "the family member watches on node B";

  ASSERT_EQ(call_as(a, owner, "DELETE", "/api/v1/devices/" + id + "/shares/" + share_id).status,
            204);
  const auto until = std::chrono::steady_clock::now() + 3s;
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() < until) {
    auto m = live.receive(500ms);
    ended = !m || m->find("\"ended\"") != std::string::npos;
  }
  EXPECT_TRUE(ended) << "node B kept serving a revoked share\n" << b.log();
  WsClient again;
  EXPECT_NE(again.connect(b.http_port(), "/api/v1/devices/" + id + "/live",
                          {{"Authorization", "Bearer " + family}}),
            101);
}

// A node keeps sessions it resolved for a few seconds (PostgreSQL is across the network), so
// a sign-out, or sessions ended from the list, through node A must end them on node B at
// once: told over the change feed, not left to run out.
TEST(TwoNodes, ASignOutThroughOneNodeEndsTheSessionOnTheOtherAtOnce) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  TestCluster two({"node-a", "node-b"}, "");
  ASSERT_EQ(two.start(), "");
  ServerProcess &a = two.node("node-a"), &b = two.node("node-b");
  const auto first = sign_up(a, "owner@example.org");
  ASSERT_FALSE(first.empty());
  const auto second = sign_in(a, "owner@example.org");
  ASSERT_FALSE(second.empty());
  for (const auto& t : {first, second}) {
    ASSERT_EQ(call_as(b, t, "GET", "/api/v1/me").status, 200) << "resolved on B, and kept";
  }
  ASSERT_EQ(call_as(a, first, "POST", "/api/v1/me/sessions/end-others").status, 200);
  EXPECT_TRUE(wait_for([&] { return call_as(b, second, "GET", "/api/v1/me").status == 401; }, 1s))
      << "node B kept a session ended through node A";
  ASSERT_EQ(call_as(b, first, "GET", "/api/v1/me").status, 200);
  ASSERT_EQ(call_as(a, first, "POST", "/api/v1/auth/logout").status, 204);
  EXPECT_TRUE(wait_for([&] { return call_as(b, first, "GET", "/api/v1/me").status == 401; }, 1s))
      << "node B kept a session signed out through node A";
}

// A camera switched off while its node is dying tells only that node (every node hears it,
// but leaves a camera's reports to its holder): the node that takes the camera reads the
// devices' retained states again, so the camera shows offline there, not online for ever.
TEST(TwoNodes, ACameraSwitchedOffAsItsNodeDiedShowsOfflineOnTheNextOne) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  TestCluster two({"node-a", "node-b"}, "");
  ASSERT_EQ(two.start(), "");
  ServerProcess &a = two.node("node-a"), &b = two.node("node-b");
  const std::string serial = serial_on(two, "DYING-", "node-b");
  const auto owner = sign_up(a, "owner@example.org");
  ASSERT_FALSE(owner.empty());
  ASSERT_FALSE(two.camera(serial, owner).empty());
  const auto online = [&] { return online_in(a, serial); };
  ASSERT_TRUE(wait_for([&] { return online() == "1\n"; }, 20s)) << online();
  ASSERT_EQ(b.stop(SIGKILL), -SIGKILL);
  two.stop_camera(serial);  // its "offline" goes out while A still counts B alive
  EXPECT_TRUE(wait_for([&] { return online() == "0\n"; }, 15s))
      << "still online: " << online() << a.log();
}

// A node that starts (again) recovers only its own cameras' state: it once marked every
// camera offline at start, so each restart of any node blinked every camera of the others.
TEST(TwoNodes, ANodeRestartingLeavesTheOtherNodesCamerasOnline) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  TestCluster two({"node-a", "node-b"}, "");
  ASSERT_EQ(two.start(), "");
  ServerProcess &a = two.node("node-a"), &b = two.node("node-b");
  const std::string serial = serial_on(two, "STAYING-", "node-a");
  const auto owner = sign_up(a, "owner@example.org");
  ASSERT_FALSE(owner.empty());
  ASSERT_FALSE(two.camera(serial, owner).empty());
  const auto online = [&] { return online_in(a, serial); };
  ASSERT_TRUE(wait_for([&] { return online() == "1\n"; }, 20s)) << online();
  std::atomic<bool> watching{true};
  std::atomic<int> offline_seen{0};
  std::thread watch([&] {
    while (watching) {
      if (online() != "1\n") ++offline_seen;
      std::this_thread::sleep_for(100ms);
    }
  });
  for (int signal : {SIGTERM, SIGKILL}) {
    b.stop(signal);
    ASSERT_TRUE(b.start()) << b.log();
    EXPECT_TRUE(wait_for([&] { return nodes_seen(a, 2) && nodes_seen(b, 2); }, 10s));
    std::this_thread::sleep_for(3s);  // past the restarted node's first recovery steps
  }
  watching = false;
  watch.join();
  EXPECT_EQ(offline_seen.load(), 0) << "node-a's camera was shown offline while node-b restarted\n"
                                    << b.log();
}

// The work one node at a time does (anonymisation, exports, region moves, the reapers) is
// held by exactly one of two nodes, by lease on the database's clock; when that node is
// killed, the other takes every lease within the lease's term and sees one node left; the
// killed node, back, joins again without taking anything from the one that now holds it.
TEST(TwoNodes, OneNodeHoldsEachSingletonAndTheOtherTakesOverWhenItDies) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  ServerProcess a{"[cluster]\nnode = \"node-a\"\n"}, b{"[cluster]\nnode = \"node-b\"\n"};
  b.share_database_of(a);
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  const std::vector<std::string> names = {"anonymise", "exports", "region-moves"};
  ASSERT_TRUE(wait_for([&] { return nodes_seen(a, 2) && nodes_seen(b, 2); }, 5s));
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& n : names) {
          if (!held(a, n) && !held(b, n)) return false;
        }
        return true;
      },
      5s));
  for (const auto& n : names) EXPECT_NE(held(a, n), held(b, n)) << n << ": one node, not two";

  // Kill whichever holds the anonymisation lease.
  ServerProcess& holder = held(a, "anonymise") ? a : b;
  ServerProcess& other = &holder == &a ? b : a;
  ASSERT_EQ(holder.stop(SIGKILL), -SIGKILL);
  EXPECT_TRUE(wait_for([&] { return nodes_seen(other, 1); }, 8s)) << "the dead node is seen gone";
  EXPECT_TRUE(wait_for(
      [&] {
        for (const auto& n : names) {
          if (!held(other, n)) return false;
        }
        return true;
      },
      15s))
      << "the survivor took every lease over\n"
      << other.get("/metrics").body;

  ASSERT_TRUE(holder.start()) << holder.log();
  EXPECT_TRUE(wait_for([&] { return nodes_seen(holder, 2) && nodes_seen(other, 2); }, 5s));
  std::this_thread::sleep_for(3s);
  for (const auto& n : names) {
    EXPECT_TRUE(held(other, n)) << n << " stays where it is";
    EXPECT_FALSE(held(holder, n)) << n;
  }
}

// PostgreSQL restarted under load (a cluster of the test's own): while it is away, requests
// fail with a clear 503 and nothing else breaks; when it is back, the same server answers
// again, from a pool whose broken connections were replaced.
TEST(PostgresOutage, RequestsFailClearlyWhileTheDatabaseRestartsAndRecoverAfter) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "a PostgreSQL restart";
  store::testing::TempPostgres own;
  ASSERT_FALSE(own.url().empty()) << own.error();
  ServerProcess server;
  server.use_postgres(own.database("outage"));
  ASSERT_TRUE(server.start()) << server.log();
  const auto bearer = sign_up(server, "steady@example.org");
  ASSERT_FALSE(bearer.empty());
  ASSERT_EQ(call_as(server, bearer, "GET", "/api/v1/me").status, 200);

  std::atomic<bool> done{false};
  std::map<int, int> statuses;
  std::mutex mu;
  std::thread load([&] {
    while (!done) {
      const int status = call_as(server, bearer, "GET", "/api/v1/me").status;
      std::lock_guard lock(mu);
      ++statuses[status];
    }
  });
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(own.restart());
  const bool recovered = wait_for(
      [&] {
        return call_as(server, bearer, "GET", "/api/v1/me").status == 200 &&
               call_as(server, bearer, "GET", "/api/v1/me").status == 200;
      },
      15s);
  std::this_thread::sleep_for(500ms);
  done = true;
  load.join();
  EXPECT_TRUE(recovered) << server.log();
  EXPECT_TRUE(server.running());
  std::string seen;
  for (const auto& [status, n] : statuses) {
    seen += std::to_string(status) + "×" + std::to_string(n) + " ";
    EXPECT_TRUE(status == 200 || status == 503) << "status " << status << ": " << seen;
  }
  EXPECT_GT(statuses[200], 0) << seen;
  EXPECT_EQ(call_as(server, bearer, "GET", "/api/v1/me").status, 200) << seen;
  EXPECT_EQ(server.get("/healthz").status, 200);
}

// Clocks seconds apart (node B's runs 7 s ahead, by libfaketime): the nodes still agree on
// who is alive and who holds each lease, as every such time is the database's, and a lease
// still moves when its holder dies.
TEST(TwoNodes, ClocksSecondsApartStillAgreeOnWhoIsAliveAndWhoHoldsWhat) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  const std::string faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  ASSERT_TRUE(std::filesystem::exists(faketime)) << "Debian's faketime (scripts/bootstrap)";
  ServerProcess a{"[cluster]\nnode = \"node-a\"\n"}, b{"[cluster]\nnode = \"node-b\"\n"};
  b.share_database_of(a);
  b.add_environment({"LD_PRELOAD=" + faketime, "FAKETIME=+7s", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                     "FAKETIME_NO_CACHE=1"});
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  // The skew is real: B's own clock says so in its health report.
  const auto time_of = [](const ServerProcess& node) {
    return parse_rfc3339_ms(node.get("/healthz").json()["time"]);
  };
  const int64_t skew = time_of(b) - time_of(a);
  ASSERT_GE(skew, 6'000) << "node B's clock is not ahead";
  ASSERT_LE(skew, 8'000);

  ASSERT_TRUE(wait_for([&] { return nodes_seen(a, 2) && nodes_seen(b, 2); }, 5s));
  ASSERT_TRUE(wait_for([&] { return held(a, "exports") || held(b, "exports"); }, 5s));
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(held(a, "exports"), held(b, "exports")) << "one holder, whatever the clocks";
    EXPECT_TRUE(nodes_seen(a, 2) && nodes_seen(b, 2)) << "neither thinks the other dead";
    std::this_thread::sleep_for(1s);
  }
  ServerProcess& holder = held(a, "exports") ? a : b;
  ServerProcess& other = &holder == &a ? b : a;
  ASSERT_EQ(holder.stop(SIGKILL), -SIGKILL);
  EXPECT_TRUE(wait_for([&] { return held(other, "exports"); }, 15s));
  EXPECT_TRUE(wait_for([&] { return nodes_seen(other, 1); }, 8s));
}

// Three nodes on one PostgreSQL, one broker (`nightjar broker`), shared stream-token keys and,
// when the run has one, one S3 bucket. Three cameras, one living on each node; a viewer on
// every node watches every camera (two of each three through a relay). One node is killed
// with SIGKILL: the viewers of its camera on the other two play again within 10 s, the others
// never stop; its recording continues on the node the camera moved to and is never written
// by two nodes at once. The node comes back and takes its camera again.
TEST(ThreeNodes, CamerasMoveWhenTheirNodeIsKilledAndComeBackWithIt) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  TestCluster three({"node-a", "node-b", "node-c"}, "[devices]\nidle_stream_grace_ms = 30000\n");
  const auto started = three.start();
  ASSERT_EQ(started, "");
  ServerProcess &a = three.node("node-a"), &b = three.node("node-b"), &c = three.node("node-c");
  std::map<std::string, ServerProcess*> node = {{"node-a", &a}, {"node-b", &b}, {"node-c", &c}};

  // One camera living on each node (rendezvous hashing, as the nodes place them).
  std::map<std::string, std::string> serial_on;  // node → serial
  for (int i = 0; serial_on.size() < 3 && i < 1000; ++i) {
    const std::string serial = "SPREAD-" + std::to_string(i);
    serial_on.try_emplace(cluster::owner_of(serial, three.ids()), serial);
  }
  ASSERT_EQ(serial_on.size(), 3u);
  const auto owner = sign_up(a, "owner@example.org");
  ASSERT_FALSE(owner.empty());
  std::map<std::string, std::string> device_of;  // serial → device id
  for (const auto& [holder, serial] : serial_on) {
    device_of[serial] = three.camera(serial, owner);
    ASSERT_FALSE(device_of[serial].empty());
  }
  // The camera on node B is recorded, there alone.
  const std::string victim = serial_on["node-b"];
  ASSERT_NE(a.admin("plan create --name week --days 7 --mode continuous"), "");
  ASSERT_NE(a.admin("plan grant --serial " + victim + " --plan week --for-days 30"), "");
  EXPECT_TRUE(wait_for([&] { return recorders(b) == 1; }, 10s)) << b.log();
  EXPECT_EQ(recorders(a), 0);
  EXPECT_EQ(recorders(c), 0);

  // A viewer on every node for every camera, each playing.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Viewer>> viewers;  // node, serial
  for (const auto& [id, n] : node) {
    for (const auto& [holder, serial] : serial_on) {
      auto v = std::make_unique<Viewer>(*n, device_of[serial], owner);
      EXPECT_TRUE(v->playing_again(std::chrono::steady_clock::now(), 20s))
          << serial << " (on " << holder << ") watched through " << id << "\n"
          << n->log();
      viewers[{id, serial}] = std::move(v);
    }
  }
  ASSERT_FALSE(HasFailure());
  // Recorded for a while on B before it dies.
  ASSERT_TRUE(wait_for(
      [&] {
        return std::atoi(a.sql("SELECT COUNT(*) FROM recording_segments s JOIN devices d ON "
                               "d.id = s.device_id WHERE d.serial = '" +
                               victim + "' AND s.writer = 'node-b' AND s.bytes > s.init_size")
                             .c_str()) > 0;
      },
      20s));

  // The other cameras, watched on the survivors, never stop: each watched on a thread of its
  // own from before the kill until after the moved camera plays again.
  struct Steady {
    std::string what;
    bool ended = false;
    std::chrono::milliseconds longest_gap{0};
    int media = 0;
  };
  std::vector<Steady> steady;
  for (const auto& survivor : {"node-a", "node-c"}) {
    for (const auto& [holder, serial] : serial_on) {
      if (serial != victim) steady.push_back({serial + " on " + survivor, false, 0ms, 0});
    }
  }
  std::atomic<bool> watching{true};
  std::vector<std::thread> watchers;
  {
    size_t i = 0;
    for (const auto& survivor : {"node-a", "node-c"}) {
      for (const auto& [holder, serial] : serial_on) {
        if (serial == victim) continue;
        // Afresh: a viewer not read from since it connected was left behind as slow.
        auto& viewer = viewers[{survivor, serial}];
        ASSERT_TRUE(viewer->connect());
        watchers.emplace_back([&, v = viewers[{survivor, serial}].get(), &out = steady[i++]] {
          auto last = std::chrono::steady_clock::now();
          while (watching && !out.ended) {
            const auto seen = v->read(200ms);
            const auto now = std::chrono::steady_clock::now();
            out.ended = seen.ended;
            out.media += seen.media;
            if (seen.media > 0) {
              out.longest_gap =
                  std::max(out.longest_gap,
                           std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
              last = now;
            }
          }
        });
      }
    }
  }
  for (const auto& survivor : {"node-a", "node-c"}) {
    auto& viewer = viewers[{survivor, victim}];
    ASSERT_TRUE(viewer->connect());
    ASSERT_GT(viewer->read(1500ms).media, 0);
  }
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(b.stop(SIGKILL), -SIGKILL);
  // The victim's viewers on the survivors play again within 10 s.
  for (const auto& survivor : {"node-a", "node-c"}) {
    const auto took = viewers[{survivor, victim}]->playing_again(killed, 15s, true);
    ASSERT_TRUE(took) << victim << " never played again on " << survivor << "\n"
                      << node[survivor]->log();
    std::printf("re-homed: %s plays on %s again %lld ms after its node was killed\n",
                victim.c_str(), survivor, static_cast<long long>(took->count()));
    EXPECT_LE(took->count(), 10'000) << survivor;
  }
  std::this_thread::sleep_for(1s);
  watching = false;
  for (auto& t : watchers) t.join();
  for (const auto& w : steady) {
    EXPECT_FALSE(w.ended) << w.what << " stopped after " << w.media << " fragments";
    EXPECT_GT(w.media, 0) << w.what;
    // Fragments come about once a second (a GOP): nothing was held up.
    EXPECT_LT(w.longest_gap, 2500ms) << w.what;
  }
  // The recording goes on, on one survivor only, and no two nodes' segments overlap.
  const auto new_home = cluster::owner_of(victim, {"node-a", "node-c"});
  EXPECT_TRUE(wait_for([&] { return recorders(*node[new_home]) == 1; }, 10s));
  EXPECT_EQ(recorders(new_home == "node-a" ? c : a), 0);
  const auto segments_query =
      "SELECT s.start_ms, s.end_ms, s.writer FROM recording_segments s JOIN devices d ON "
      "d.id = s.device_id WHERE d.serial = '" +
      victim + "' AND s.bytes > s.init_size ORDER BY s.start_ms";
  ASSERT_TRUE(wait_for(
      [&] { return a.sql(segments_query).find("|" + new_home) != std::string::npos; }, 20s))
      << a.sql(segments_query);

  // With the media in a shared bucket, a survivor finishes what B left open once B has been
  // silent for 30 s (without it, only B can, when it is back: its files are its own).
  if (recording::testing::on_s3()) {
    EXPECT_TRUE(wait_for(
        [&] {
          return a.sql(
                     "SELECT COUNT(*) FROM recording_segments WHERE writer = 'node-b' AND "
                     "state = 'open'") == "0\n";
        },
        45s))
        << "B's open segment was never finished\n"
        << a.sql("SELECT id, writer, state FROM recording_segments");
  }

  // B comes back: it takes its camera again (and its recording), the others let it go.
  ASSERT_TRUE(b.start()) << b.log();
  const auto back = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_for([&] { return recorders(b) == 1 && recorders(*node[new_home]) == 0; }, 15s))
      << recorders(b) << " " << recorders(*node[new_home]);
  for (const auto& id : {"node-a", "node-b", "node-c"}) {
    if (std::string(id) == "node-b") {
      viewers[{id, victim}] = std::make_unique<Viewer>(b, device_of[victim], owner);
    }
    const auto took = viewers[{id, victim}]->playing_again(back, 20s);
    EXPECT_TRUE(took) << victim << " on " << id << " after B came back\n" << node[id]->log();
  }
  std::this_thread::sleep_for(6s);  // a segment or two from B
  // Written by one node at a time: each segment begins where the one before it ended, never
  // earlier (one frame, 100 ms here, of rounding). When B came back the camera reached it
  // while still pushing to the old holder and moved at a keyframe, and the old holder
  // recorded until the camera left: nothing twice, nothing missing. When B was killed, the
  // camera kept what B never got and sent it to its new node as a backlog: the recording
  // lost at most the GOP B had in flight.
  const auto rows = a.sql(segments_query);
  std::printf("segments (start_ms|end_ms|writer):\n%s", rows.c_str());
  // The node that had the camera may ask for it again by its older list of nodes before it
  // sees B: the camera refuses that ask (its epoch is older), so it is not pulled back.
  const auto camera_log = three.camera_log(victim);
  int refused = 0;
  for (auto at = camera_log.find("cam.stream.superseded"); at != std::string::npos;
       at = camera_log.find("cam.stream.superseded", at + 1)) {
    ++refused;
  }
  std::printf("stale asks the camera refused: %d\n", refused);
  std::istringstream lines(rows);
  int64_t last_end = 0;
  std::string last_writer;
  std::set<std::string> writers;
  std::optional<int64_t> killed_gap;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    int64_t start = 0, end = 0;
    char writer[64] = {0};
    ASSERT_EQ(std::sscanf(line.c_str(), "%ld|%ld|%63s", &start, &end, writer), 3) << line;
    EXPECT_GE(start, last_end - 100) << "overlap: " << last_writer << " then " << writer << "\n"
                                     << rows;
    if (last_end > 0 && last_writer != writer) {
      std::printf("recording moved %s → %s: a gap of %lld ms\n", last_writer.c_str(), writer,
                  static_cast<long long>(start - last_end));
      if (last_writer == "node-b" && writer == new_home && !killed_gap) {
        killed_gap = start - last_end;
      } else if (last_writer == new_home && writer == std::string("node-b")) {
        EXPECT_LE(start - last_end, 100) << "a planned hand-over lost media\n" << rows;
      }
    }
    last_end = end;
    last_writer = writer;
    writers.insert(writer);
  }
  EXPECT_TRUE(writers.contains("node-b")) << rows;
  EXPECT_TRUE(writers.contains(new_home)) << rows;
  ASSERT_TRUE(killed_gap) << rows;
  EXPECT_LE(*killed_gap, 1100) << "more than the GOP in flight was lost\n" << rows;
}

// A clustered broker that runs neither of mosquitto's plugins asks any node, over HTTP, whether
// a login may connect and what it may reach (device_logins = "hook"): the node answers for its
// cameras from the registry at each question, so a camera switched off is refused at once.
TEST(BrokerHook, ANodeAnswersTheBrokerForItsCamerasAndLeavesOtherLoginsToIt) {
  const auto token_file =
      std::filesystem::temp_directory_path() / ("nj-hook-token-" + std::to_string(::getpid()));
  const std::string token = "a-hook-token-only-the-broker-has";
  std::ofstream(token_file) << token << "\n";
  // The broker itself is not needed to be asked: nothing listens on the discard port.
  ServerProcess node(
      "[mqtt]\nexternal_host = \"127.0.0.1\"\nexternal_port = 9\nadmin_username = "
      "\"nightjar\"\nadmin_password = \"unused\"\ndevice_logins = \"hook\"\nhook_token_file = \"" +
      token_file.string() + "\"\n");
  ASSERT_TRUE(node.start()) << node.log();
  const auto secret = add_device(node, "HOOK-1");
  ASSERT_FALSE(secret.empty());
  const auto ask = [&](const std::string& what, const nlohmann::json& body,
                       const std::string& bearer) {
    return node.request(
        "POST", "/api/v1/broker/" + what,
        {{"Authorization", "Bearer " + bearer}, {"Content-Type", "application/json"}}, body.dump());
  };
  const auto result = [&](const std::string& what, const nlohmann::json& body) {
    const auto r = ask(what, body, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("result", "");
  };
  EXPECT_EQ(result("auth", {{"username", "HOOK-1"}, {"password", secret}}), "allow");
  EXPECT_EQ(result("auth", {{"username", "HOOK-1"}, {"password", secret + "x"}}), "deny");
  EXPECT_EQ(result("auth", {{"username", "nightjar"}, {"password", "unused"}}), "ignore");
  EXPECT_EQ(result("auth", {{"username", "NO-SUCH-1"}, {"password", secret}}), "ignore");
  EXPECT_EQ(
      result("acl",
             {{"username", "HOOK-1"}, {"topic", "nj/v1/HOOK-1/event"}, {"action", "publish"}}),
      "allow");
  EXPECT_EQ(
      result("acl",
             {{"username", "HOOK-1"}, {"topic", "nj/v1/OTHER-1/rpc/req"}, {"action", "subscribe"}}),
      "deny");
  EXPECT_EQ(ask("auth", {{"username", "HOOK-1"}, {"password", secret}}, secret).status, 401);
  EXPECT_EQ(
      ask("acl", {{"username", "HOOK-1"}, {"topic", "nj/v1/HOOK-1/event"}, {"action", "publish"}},
          "")
          .status,
      401);

  node.sql("UPDATE devices SET enabled = 0 WHERE serial = 'HOOK-1'");  // as an unbind does
  EXPECT_EQ(result("auth", {{"username", "HOOK-1"}, {"password", secret}}), "deny");
  EXPECT_EQ(
      result("acl",
             {{"username", "HOOK-1"}, {"topic", "nj/v1/HOOK-1/event"}, {"action", "publish"}}),
      "deny");
  EXPECT_NE(node.log().find("mqtt.device_logins mode=hook"), std::string::npos);
  std::filesystem::remove(token_file);
}

}  // namespace
}  // namespace nj::testing
